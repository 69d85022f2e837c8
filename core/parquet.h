// A streaming Parquet writer (https://parquet.apache.org/docs/file-format/), and a
// small reader of what it writes, for the tests and the fuzz target.
//
// What the writer makes: flat schemas of OPTIONAL columns (BOOLEAN, INT64, DOUBLE,
// BYTE_ARRAY annotated as UTF-8 STRING); one data page (v1) per column chunk,
// definition levels as one bit-packed run (bit width 1), values PLAIN, the page
// compressed with Snappy (every common reader has it). FileMetaData and page
// headers are Thrift compact protocol. No statistics, no dictionary pages.
//
// Memory: the rows of one row group, held column by column until the group passes
// `row_group_bytes` (values plus one definition bit per cell), then the group is
// written out and the buffers reused; the footer keeps four integers per column
// chunk. A file of any length is thus written with bounded memory, to a
// forward-only sink (a ZIP entry being streamed), since no offset is ever patched.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace core::parquet {

enum class ColumnType { boolean, int64, float64, string };

struct Column {
    std::string name;
    ColumnType type;
};

class Writer {
public:
    using Sink = std::function<void(std::string_view)>;
    static constexpr size_t kDefaultRowGroupBytes = 8u << 20;

    Writer(Sink sink, std::vector<Column> columns, size_t row_group_bytes = kDefaultRowGroupBytes);
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Sets one cell of the current row; a cell not set before end_row() is null.
    // The value must match the column's type (std::logic_error otherwise).
    void set_bool(size_t col, bool v);
    void set_int64(size_t col, int64_t v);
    void set_double(size_t col, double v);
    void set_string(size_t col, std::string_view v);
    void end_row();
    // Writes the last row group and the footer; the file is complete only after this.
    void finish();

    uint64_t bytes_written() const { return offset_; }
    uint64_t rows() const { return total_rows_; }

private:
    struct ChunkMeta {
        int64_t data_page_offset;
        int64_t uncompressed;  // page header + uncompressed page
        int64_t compressed;    // page header + compressed page
    };
    struct RowGroupMeta {
        int64_t rows;
        int64_t total_uncompressed;
        std::vector<ChunkMeta> chunks;
    };
    struct ColumnBuffer {
        std::string def_bits;  // one bit per row, LSB first: 1 = a value
        std::string values;    // PLAIN encoded (booleans: bit-packed)
        uint64_t non_null = 0;
        bool set = false;
    };
    ColumnBuffer& cell(size_t col, ColumnType type);
    void flush_row_group();
    void emit(std::string_view bytes);

    Sink sink_;
    std::vector<Column> columns_;
    size_t row_group_bytes_;
    std::vector<ColumnBuffer> buffers_;
    std::vector<RowGroupMeta> groups_;
    uint64_t offset_ = 0;
    uint64_t group_rows_ = 0;
    uint64_t total_rows_ = 0;
    size_t buffered_ = 0;
    bool finished_ = false;
    std::string page_;  // reused compression buffer
};

// ---- Reading back (tests, fuzz): only what Writer makes is understood. ----

class FormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ColumnInfo {
    std::string name;
    int physical_type = -1;  // Thrift Type: BOOLEAN 0, INT64 2, DOUBLE 5, BYTE_ARRAY 6
    int repetition = -1;     // OPTIONAL 1
    bool utf8 = false;       // converted_type UTF8 or logicalType STRING
};

struct ChunkInfo {
    int physical_type = -1;
    int codec = -1;
    std::vector<std::string> path;
    int64_t num_values = 0;
    int64_t total_uncompressed = 0;
    int64_t total_compressed = 0;
    int64_t data_page_offset = 0;
};

struct RowGroupInfo {
    int64_t num_rows = 0;
    std::vector<ChunkInfo> chunks;
};

struct FileInfo {
    int version = 0;
    int64_t num_rows = 0;
    std::string created_by;
    std::vector<ColumnInfo> columns;  // the leaves (the root is checked and dropped)
    std::vector<RowGroupInfo> row_groups;
};

using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;  // monostate: null

// Checks magic, footer and FileMetaData, and that every chunk lies inside the file
// and agrees with the schema. Throws FormatError.
FileInfo read_metadata(std::string_view file);
// Decodes every column of every row group: result[column][row].
std::vector<std::vector<Value>> read_columns(std::string_view file, const FileInfo& info);

}  // namespace core::parquet
