// The data export's CSV form of records (CONTRACT §7 "Data export"): one file per
// form type, a header row, the fixed columns, then one column per leaf of `data`.
// No HTTP and no SQL here; services/export_service.cpp feeds it rows.
//
// Decisions where the contract is silent:
// - Leaves: strings (decoded), numbers (their text exactly as stored, never
//   re-formatted), true/false, null (an empty field). Nested objects are walked
//   and named `a.b.c`; an empty object is a leaf whose value is `{}`; an array is
//   a leaf whose value is its canonical JSON text (RFC 8785, numbers as stored).
// - A key that holds `.` or `\` has them escaped with `\` in the column name
//   (`{"a.b":1}` is column `a\.b`, `{"a":{"b":1}}` is `a.b`), so two different
//   paths never share a column.
// - A record without a leaf has an empty unquoted field there; JSON null is the
//   same; an empty string is `""` (quoted), so a careful reader can tell them apart.
// - Data columns are sorted bytewise by name; the fixed columns come first.
// - Tombstones (deleted records) are exported with deleted=true and the data
//   they were stored with.
// - Values are written as stored, including text that a spreadsheet would read as
//   a formula (=, +, -, @): the export is for analysis and must not alter data.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace domain {

class ExportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One CSV field: nullopt is an empty unquoted field; a value is quoted when it
// holds `"`, `,`, CR or LF, or is empty.
using CsvCell = std::optional<std::string>;

// RFC 4180: fields joined by `,`, rows ended by CRLF, `"` doubled inside quotes.
void append_csv_field(std::string& out, const CsvCell& cell);
void append_csv_row(std::string& out, const std::vector<CsvCell>& cells);

// observation_id, form_version, created_at, updated_at, synced_at, deleted,
// latitude, longitude, accuracy, altitude, altitude_accuracy, last_modified_by.
const std::vector<std::string>& export_fixed_columns();

// What a leaf held in the JSON: the Parquet export types its columns by this.
// json: an array or an empty object, whose value is its canonical JSON text.
enum class LeafKind { null, number, boolean, string, json };

struct FlatLeaf {
    std::string path;  // column name, see the escaping rule above
    CsvCell value;
    LeafKind kind = LeafKind::string;
};

// The leaves of a record's data (a JSON object text), in document order.
// Throws ExportError when the text is not a JSON object.
std::vector<FlatLeaf> flatten_data(std::string_view data_json);

// Adds the column names of one record's data to `columns`.
void collect_data_columns(std::string_view data_json, std::set<std::string>& columns);

// One stored record as the export reads it.
struct ExportRecord {
    int64_t change_id = 0;
    std::string observation_id;
    std::string form_version;
    std::optional<std::string> created_at;
    std::optional<std::string> updated_at;
    std::string synced_at;
    bool deleted = false;
    std::optional<std::string> geolocation;  // JSON object text
    std::string last_modified_by;
    std::string data;  // JSON object text
};

// The header row of a form type's file and one record's row, for the given data
// columns (sorted, as collect_data_columns gathers them).
void append_header_row(std::string& out, const std::vector<std::string>& data_columns);
void append_record_row(std::string& out, const ExportRecord& r, const std::vector<std::string>& data_columns);

// File names for form types inside the ZIP: `<type>.csv` when the type is made of
// A-Z a-z 0-9 `_` `-` only (and is not a Windows device name); otherwise the
// unsafe characters become `_` and a hash of the full type is appended, so the
// name never holds `/`, `..` or control characters, and two types never share a
// file even when they sanitize alike. Names are unique within one namer.
class ExportFileNamer {
public:
    explicit ExportFileNamer(std::string extension = ".csv") : extension_(std::move(extension)) {}
    std::string name_for(std::string_view form_type);

private:
    std::string extension_;
    std::set<std::string> used_;
};

}  // namespace domain
