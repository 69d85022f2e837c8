// The data export's Parquet form of records (CONTRACT §9): one file per form type,
// columns observation_id, form_type, form_version, created_at, updated_at, synced_at
// (strings), deleted (boolean), version (int64, the change id), geolocation (JSON
// text or null), then data_<leaf> for each leaf of `data`, named as the CSV export
// names its columns (domain/csv_export.h), sorted bytewise. All columns nullable.
// No I/O here; services/export_service.cpp feeds it the rows of a snapshot twice.
//
// Column types, from a first pass over the form type (observe()):
// - DOUBLE when every non-null value of the leaf is a JSON number that a double
//   holds (a number past a double's range, e.g. 1e400, makes the column a string,
//   so no value is lost);
// - BOOLEAN when every non-null value is true/false;
// - STRING holding the value itself when every non-null value is a string, or when
//   every value is null;
// - otherwise STRING holding each value's JSON text (arrays, empty objects, mixed
//   leaves: `1`, `"a"`, `true`, `[1,2]`), so a reader can always tell 1 from "1".
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/parquet.h"
#include "domain/csv_export.h"

namespace domain {

class ParquetLayout {
public:
    // First pass: one record's data (JSON object text). Throws ExportError.
    void observe(std::string_view data_json);
    // Ends the first pass: the file's columns, fixed ones first.
    std::vector<core::parquet::Column> columns();
    // Second pass: one record as a row of `w`, which was made with columns().
    void write_row(core::parquet::Writer& w, const std::string& form_type, const ExportRecord& r) const;

private:
    enum Seen : unsigned { kNumber = 1, kBoolean = 2, kString = 4, kOther = 8 };
    enum class Mode { number, boolean, text, json };
    std::map<std::string, unsigned> seen_;
    std::unordered_map<std::string, std::pair<size_t, Mode>> index_;  // data column path → (column, mode)
};

}  // namespace domain
