#include "core/parquet.h"

#include <snappy.h>

#include <cstring>

namespace core::parquet {

namespace {

// Thrift enums (parquet.thrift).
constexpr int kTypeBoolean = 0, kTypeInt64 = 2, kTypeDouble = 5, kTypeByteArray = 6;
constexpr int kOptional = 1;
constexpr int kConvertedUtf8 = 0;
constexpr int kEncodingPlain = 0, kEncodingRle = 3;
constexpr int kCodecSnappy = 1;
constexpr int kPageData = 0;

// Thrift compact protocol type ids.
enum : uint8_t {
    kCtTrue = 1, kCtFalse = 2, kCtByte = 3, kCtI16 = 4, kCtI32 = 5, kCtI64 = 6, kCtDouble = 7,
    kCtBinary = 8, kCtList = 9, kCtSet = 10, kCtMap = 11, kCtStruct = 12
};

int physical_type(ColumnType t) {
    switch (t) {
        case ColumnType::boolean: return kTypeBoolean;
        case ColumnType::int64: return kTypeInt64;
        case ColumnType::float64: return kTypeDouble;
        case ColumnType::string: return kTypeByteArray;
    }
    return -1;
}

void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

void put_le(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Thrift compact protocol, writing side: just what the footer and page headers use.
class Compact {
public:
    std::string out;

    void i32(int16_t id, int32_t v) {
        field(id, kCtI32);
        put_varint(out, zigzag(v));
    }
    void i64(int16_t id, int64_t v) {
        field(id, kCtI64);
        put_varint(out, zigzag(v));
    }
    void binary(int16_t id, std::string_view s) {
        field(id, kCtBinary);
        raw_binary(s);
    }
    void begin_struct(int16_t id) {
        field(id, kCtStruct);
        open();
    }
    void end_struct() {
        out += '\0';
        last_ = stack_.back();
        stack_.pop_back();
    }
    void begin_list(int16_t id, uint8_t elem, size_t n) {
        field(id, kCtList);
        if (n < 15) out += static_cast<char>((n << 4) | elem);
        else {
            out += static_cast<char>(0xf0 | elem);
            put_varint(out, n);
        }
    }
    void elem_i32(int32_t v) { put_varint(out, zigzag(v)); }
    void raw_binary(std::string_view s) {
        put_varint(out, s.size());
        out.append(s);
    }
    // A struct as a list element has no field header.
    void open() {
        stack_.push_back(last_);
        last_ = 0;
    }
    void stop() { out += '\0'; }

private:
    static uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
    void field(int16_t id, uint8_t type) {
        int delta = id - last_;
        if (delta > 0 && delta <= 15) out += static_cast<char>((delta << 4) | type);
        else {
            out += static_cast<char>(type);
            put_varint(out, zigzag(id));
        }
        last_ = id;
    }
    int16_t last_ = 0;
    std::vector<int16_t> stack_;
};

}  // namespace

Writer::Writer(Sink sink, std::vector<Column> columns, size_t row_group_bytes)
    : sink_(std::move(sink)), columns_(std::move(columns)), row_group_bytes_(row_group_bytes),
      buffers_(columns_.size()) {
    emit("PAR1");
}

void Writer::emit(std::string_view bytes) {
    sink_(bytes);
    offset_ += bytes.size();
}

Writer::ColumnBuffer& Writer::cell(size_t col, ColumnType type) {
    if (col >= columns_.size() || columns_[col].type != type || finished_)
        throw std::logic_error("parquet: value does not fit the column");
    ColumnBuffer& b = buffers_[col];
    if (b.set) throw std::logic_error("parquet: cell set twice");
    b.set = true;
    return b;
}

void Writer::set_bool(size_t col, bool v) {
    ColumnBuffer& b = cell(col, ColumnType::boolean);
    if (b.non_null % 8 == 0) {
        b.values += '\0';
        ++buffered_;
    }
    if (v) b.values.back() = static_cast<char>(b.values.back() | (1 << (b.non_null % 8)));
    ++b.non_null;
}

void Writer::set_int64(size_t col, int64_t v) {
    ColumnBuffer& b = cell(col, ColumnType::int64);
    put_le(b.values, static_cast<uint64_t>(v), 8);
    buffered_ += 8;
    ++b.non_null;
}

void Writer::set_double(size_t col, double v) {
    ColumnBuffer& b = cell(col, ColumnType::float64);
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put_le(b.values, bits, 8);
    buffered_ += 8;
    ++b.non_null;
}

void Writer::set_string(size_t col, std::string_view v) {
    if (v.size() > 0x7fffffffu) throw std::length_error("parquet: string longer than 2 GiB");
    ColumnBuffer& b = cell(col, ColumnType::string);
    put_le(b.values, v.size(), 4);
    b.values.append(v);
    buffered_ += 4 + v.size();
    ++b.non_null;
}

void Writer::end_row() {
    const unsigned bit = group_rows_ % 8;
    for (auto& b : buffers_) {
        if (bit == 0) b.def_bits += '\0';
        if (b.set) b.def_bits.back() = static_cast<char>(b.def_bits.back() | (1 << bit));
        b.set = false;
    }
    if (bit == 0) buffered_ += buffers_.size() + 1;  // the definition bits, and a floor for 0 columns
    ++group_rows_;
    ++total_rows_;
    if (buffered_ >= row_group_bytes_) flush_row_group();
}

// One column chunk = one data page v1: [u32 length][def levels, one bit-packed run][values].
void Writer::flush_row_group() {
    if (group_rows_ == 0) return;
    RowGroupMeta g{static_cast<int64_t>(group_rows_), 0, {}};
    g.chunks.reserve(columns_.size());
    std::string body;
    for (size_t c = 0; c < columns_.size(); ++c) {
        ColumnBuffer& b = buffers_[c];
        std::string levels;
        put_varint(levels, (b.def_bits.size() << 1) | 1);  // bit-packed run of def_bits.size() groups of 8
        levels += b.def_bits;
        body.clear();
        put_le(body, levels.size(), 4);
        body += levels;
        body += b.values;
        page_.clear();
        snappy::Compress(body.data(), body.size(), &page_);

        Compact h;
        h.i32(1, kPageData);
        h.i32(2, static_cast<int32_t>(body.size()));
        h.i32(3, static_cast<int32_t>(page_.size()));
        h.begin_struct(5);
        h.i32(1, static_cast<int32_t>(group_rows_));
        h.i32(2, kEncodingPlain);
        h.i32(3, kEncodingRle);
        h.i32(4, kEncodingRle);
        h.end_struct();
        h.stop();
        ChunkMeta m{static_cast<int64_t>(offset_), static_cast<int64_t>(h.out.size() + body.size()),
                    static_cast<int64_t>(h.out.size() + page_.size())};
        emit(h.out);
        emit(page_);
        g.total_uncompressed += m.uncompressed;
        g.chunks.push_back(m);
        b.def_bits.clear();
        b.values.clear();
        b.non_null = 0;
    }
    groups_.push_back(std::move(g));
    group_rows_ = 0;
    buffered_ = 0;
}

void Writer::finish() {
    if (finished_) return;
    flush_row_group();
    finished_ = true;
    Compact f;
    f.i32(1, 1);
    f.begin_list(2, kCtStruct, columns_.size() + 1);
    f.open();  // the root
    f.binary(4, "schema");
    f.i32(5, static_cast<int32_t>(columns_.size()));
    f.end_struct();
    for (const auto& col : columns_) {
        f.open();
        f.i32(1, physical_type(col.type));
        f.i32(3, kOptional);
        f.binary(4, col.name);
        if (col.type == ColumnType::string) {
            f.i32(6, kConvertedUtf8);
            f.begin_struct(10);  // LogicalType union: STRING = 1 (an empty struct)
            f.begin_struct(1);
            f.end_struct();
            f.end_struct();
        }
        f.end_struct();
    }
    f.i64(3, static_cast<int64_t>(total_rows_));
    f.begin_list(4, kCtStruct, groups_.size());
    for (const auto& g : groups_) {
        f.open();
        f.begin_list(1, kCtStruct, g.chunks.size());
        int64_t compressed = 0;
        for (size_t c = 0; c < g.chunks.size(); ++c) {
            const ChunkMeta& m = g.chunks[c];
            compressed += m.compressed;
            f.open();
            f.i64(2, m.data_page_offset);  // file_offset: where the chunk starts
            f.begin_struct(3);
            f.i32(1, physical_type(columns_[c].type));
            f.begin_list(2, kCtI32, 2);
            f.elem_i32(kEncodingPlain);
            f.elem_i32(kEncodingRle);
            f.begin_list(3, kCtBinary, 1);
            f.raw_binary(columns_[c].name);
            f.i32(4, kCodecSnappy);
            f.i64(5, g.rows);
            f.i64(6, m.uncompressed);
            f.i64(7, m.compressed);
            f.i64(9, m.data_page_offset);
            f.end_struct();
            f.end_struct();
        }
        f.i64(2, g.total_uncompressed);
        f.i64(3, g.rows);
        f.i64(5, g.chunks.empty() ? static_cast<int64_t>(offset_) : g.chunks.front().data_page_offset);
        f.i64(6, compressed);
        f.end_struct();
    }
    f.binary(6, "synkronus-fcgi");
    f.stop();
    std::string tail = std::move(f.out);
    put_le(tail, tail.size(), 4);
    tail += "PAR1";
    emit(tail);
    groups_.clear();
}

// ---------------------------------------------------------------- reading back

namespace {

// Thrift compact protocol, reading side, over a bounded buffer.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            uint8_t b = byte();
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        throw FormatError("varint too long");
    }
    int64_t zigzag() {
        uint64_t v = varint();
        return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
    }
    uint8_t byte() {
        if (pos_ >= in_.size()) throw FormatError("thrift: truncated");
        return static_cast<uint8_t>(in_[pos_++]);
    }
    std::string_view binary() {
        uint64_t n = varint();
        if (n > in_.size() - pos_) throw FormatError("thrift: binary past the end");
        auto s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    // Next field of the current struct: false at the stop byte.
    bool field(int16_t& last, int16_t& id, uint8_t& type) {
        uint8_t b = byte();
        if (b == 0) return false;
        type = b & 0x0f;
        int delta = b >> 4;
        id = delta ? static_cast<int16_t>(last + delta) : static_cast<int16_t>(zigzag());
        last = id;
        return true;
    }
    void list_header(uint8_t& elem, uint64_t& n) {
        uint8_t b = byte();
        elem = b & 0x0f;
        n = b >> 4;
        if (n == 15) n = varint();
        if (n > in_.size() - pos_) throw FormatError("thrift: list longer than its buffer");
    }
    int64_t integer(uint8_t type) {
        if (type != kCtI32 && type != kCtI64 && type != kCtI16 && type != kCtByte) throw FormatError("thrift: not an integer");
        if (type == kCtByte) return static_cast<int8_t>(byte());
        return zigzag();
    }
    void skip(uint8_t type, int depth = 0) {
        if (depth > 64) throw FormatError("thrift: nested too deeply");
        switch (type) {
            case kCtTrue: case kCtFalse: return;
            case kCtByte: byte(); return;
            case kCtI16: case kCtI32: case kCtI64: varint(); return;
            case kCtDouble:
                if (in_.size() - pos_ < 8) throw FormatError("thrift: truncated");
                pos_ += 8;
                return;
            case kCtBinary: binary(); return;
            case kCtList: case kCtSet: {
                uint8_t e;
                uint64_t n;
                list_header(e, n);
                for (uint64_t i = 0; i < n; ++i) skip(e, depth + 1);
                return;
            }
            case kCtMap: {
                uint64_t n = varint();
                if (n == 0) return;
                uint8_t kv = byte();
                for (uint64_t i = 0; i < n; ++i) {
                    skip(kv >> 4, depth + 1);
                    skip(kv & 0x0f, depth + 1);
                }
                return;
            }
            case kCtStruct: {
                int16_t last = 0, id;
                uint8_t t;
                while (field(last, id, t)) skip(t, depth + 1);
                return;
            }
            default: throw FormatError("thrift: unknown type");
        }
    }
    size_t pos() const { return pos_; }

private:
    std::string_view in_;
    size_t pos_ = 0;
};

template <typename Fn>
void each_field(Reader& r, Fn&& fn) {
    int16_t last = 0, id;
    uint8_t t;
    while (r.field(last, id, t)) fn(id, t);
}

template <typename Fn>
void each_struct_elem(Reader& r, Fn&& fn) {
    uint8_t e;
    uint64_t n;
    r.list_header(e, n);
    for (uint64_t i = 0; i < n; ++i) {
        if (e != kCtStruct) throw FormatError("thrift: expected a list of structs");
        fn();
    }
}

ChunkInfo read_column_meta(Reader& r) {
    ChunkInfo c;
    each_field(r, [&](int16_t id, uint8_t t) {
        switch (id) {
            case 1: c.physical_type = static_cast<int>(r.integer(t)); break;
            case 3: {
                if (t != kCtList) throw FormatError("path_in_schema is not a list");
                uint8_t e;
                uint64_t n;
                r.list_header(e, n);
                for (uint64_t i = 0; i < n; ++i) {
                    if (e != kCtBinary) throw FormatError("path_in_schema holds a non-string");
                    c.path.emplace_back(r.binary());
                }
                break;
            }
            case 4: c.codec = static_cast<int>(r.integer(t)); break;
            case 5: c.num_values = r.integer(t); break;
            case 6: c.total_uncompressed = r.integer(t); break;
            case 7: c.total_compressed = r.integer(t); break;
            case 9: c.data_page_offset = r.integer(t); break;
            default: r.skip(t);
        }
    });
    return c;
}

struct PageHeader {
    int type = -1;
    int64_t uncompressed = -1, compressed = -1, num_values = -1;
    int encoding = -1, def_encoding = -1;
};

PageHeader read_page_header(Reader& r) {
    PageHeader h;
    each_field(r, [&](int16_t id, uint8_t t) {
        switch (id) {
            case 1: h.type = static_cast<int>(r.integer(t)); break;
            case 2: h.uncompressed = r.integer(t); break;
            case 3: h.compressed = r.integer(t); break;
            case 5:
                if (t != kCtStruct) throw FormatError("data_page_header is not a struct");
                each_field(r, [&](int16_t id2, uint8_t t2) {
                    if (id2 == 1) h.num_values = r.integer(t2);
                    else if (id2 == 2) h.encoding = static_cast<int>(r.integer(t2));
                    else if (id2 == 3) h.def_encoding = static_cast<int>(r.integer(t2));
                    else r.skip(t2);
                });
                break;
            default: r.skip(t);
        }
    });
    return h;
}

uint64_t get_le(std::string_view s, size_t pos, int bytes) {
    if (pos + bytes > s.size()) throw FormatError("value past the end of the page");
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(s[pos + i])) << (8 * i);
    return v;
}

}  // namespace

FileInfo read_metadata(std::string_view file) {
    if (file.size() < 12 || file.substr(0, 4) != "PAR1" || file.substr(file.size() - 4) != "PAR1")
        throw FormatError("not a Parquet file (magic)");
    uint64_t len = get_le(file, file.size() - 8, 4);
    if (len > file.size() - 12) throw FormatError("footer length past the start of the file");
    const size_t footer_start = file.size() - 8 - len;
    Reader r(file.substr(footer_start, len));
    FileInfo info;
    std::vector<ColumnInfo> schema;
    std::vector<int> num_children;
    each_field(r, [&](int16_t id, uint8_t t) {
        switch (id) {
            case 1: info.version = static_cast<int>(r.integer(t)); break;
            case 2:
                if (t != kCtList) throw FormatError("schema is not a list");
                each_struct_elem(r, [&] {
                    ColumnInfo c;
                    int children = 0;
                    each_field(r, [&](int16_t fid, uint8_t ft) {
                        switch (fid) {
                            case 1: c.physical_type = static_cast<int>(r.integer(ft)); break;
                            case 3: c.repetition = static_cast<int>(r.integer(ft)); break;
                            case 4: c.name = std::string(r.binary()); break;
                            case 5: children = static_cast<int>(r.integer(ft)); break;
                            case 6: c.utf8 = c.utf8 || r.integer(ft) == kConvertedUtf8; break;
                            case 10: {
                                // LogicalType union: field 1 is STRING
                                if (ft != kCtStruct) throw FormatError("logicalType is not a struct");
                                each_field(r, [&](int16_t lid, uint8_t lt) {
                                    if (lid == 1) c.utf8 = true;
                                    r.skip(lt);
                                });
                                break;
                            }
                            default: r.skip(ft);
                        }
                    });
                    schema.push_back(std::move(c));
                    num_children.push_back(children);
                });
                break;
            case 3: info.num_rows = r.integer(t); break;
            case 4:
                if (t != kCtList) throw FormatError("row_groups is not a list");
                each_struct_elem(r, [&] {
                    RowGroupInfo g;
                    each_field(r, [&](int16_t gid, uint8_t gt) {
                        if (gid == 1) {
                            if (gt != kCtList) throw FormatError("columns is not a list");
                            each_struct_elem(r, [&] {
                                ChunkInfo c;
                                bool have_meta = false;
                                each_field(r, [&](int16_t cid, uint8_t ct) {
                                    if (cid == 3 && ct == kCtStruct) {
                                        c = read_column_meta(r);
                                        have_meta = true;
                                    } else r.skip(ct);
                                });
                                if (!have_meta) throw FormatError("column chunk without meta_data");
                                g.chunks.push_back(std::move(c));
                            });
                        } else if (gid == 3) g.num_rows = r.integer(gt);
                        else r.skip(gt);
                    });
                    info.row_groups.push_back(std::move(g));
                });
                break;
            case 6: info.created_by = std::string(r.binary()); break;
            default: r.skip(t);
        }
    });
    if (schema.empty() || num_children[0] != static_cast<int>(schema.size()) - 1)
        throw FormatError("schema root does not count its columns");
    for (size_t i = 1; i < schema.size(); ++i) {
        if (num_children[i] != 0) throw FormatError("nested schema");
        if (schema[i].repetition != kOptional) throw FormatError("column is not OPTIONAL");
        const int t = schema[i].physical_type;
        if (t != kTypeBoolean && t != kTypeInt64 && t != kTypeDouble && t != kTypeByteArray)
            throw FormatError("unexpected physical type");
        if (t == kTypeByteArray && !schema[i].utf8) throw FormatError("byte array column not marked UTF-8");
        info.columns.push_back(std::move(schema[i]));
    }
    int64_t rows = 0;
    for (const auto& g : info.row_groups) {
        if (g.chunks.size() != info.columns.size()) throw FormatError("row group column count differs from schema");
        if (g.num_rows <= 0) throw FormatError("empty row group");
        rows += g.num_rows;
        for (size_t c = 0; c < g.chunks.size(); ++c) {
            const ChunkInfo& ch = g.chunks[c];
            if (ch.physical_type != info.columns[c].physical_type) throw FormatError("chunk type differs from schema");
            if (ch.path.size() != 1 || ch.path[0] != info.columns[c].name) throw FormatError("chunk path differs from schema");
            if (ch.codec != kCodecSnappy) throw FormatError("unexpected codec");
            if (ch.num_values != g.num_rows) throw FormatError("chunk value count differs from row count");
            if (ch.data_page_offset < 4 || ch.total_compressed <= 0 ||
                static_cast<uint64_t>(ch.data_page_offset) + static_cast<uint64_t>(ch.total_compressed) > footer_start)
                throw FormatError("chunk outside the data area");
        }
    }
    if (rows != info.num_rows) throw FormatError("row groups do not add up to num_rows");
    return info;
}

std::vector<std::vector<Value>> read_columns(std::string_view file, const FileInfo& info) {
    std::vector<std::vector<Value>> out(info.columns.size());
    for (const auto& g : info.row_groups) {
        for (size_t c = 0; c < g.chunks.size(); ++c) {
            const ChunkInfo& ch = g.chunks[c];
            std::string_view chunk = file.substr(ch.data_page_offset, ch.total_compressed);
            Reader r(chunk);
            PageHeader h = read_page_header(r);
            if (h.type != kPageData || h.num_values != g.num_rows || h.encoding != kEncodingPlain ||
                h.def_encoding != kEncodingRle)
                throw FormatError("unexpected page header");
            if (h.compressed < 0 || static_cast<uint64_t>(h.compressed) != chunk.size() - r.pos())
                throw FormatError("page size differs from the chunk size");
            std::string body;
            if (!snappy::Uncompress(chunk.data() + r.pos(), h.compressed, &body) ||
                body.size() != static_cast<uint64_t>(h.uncompressed))
                throw FormatError("page does not decompress");
            const uint64_t levels_len = get_le(body, 0, 4);
            if (levels_len > body.size() - 4) throw FormatError("levels past the page");
            std::string_view levels(body.data() + 4, levels_len);
            // Our own writer makes a single bit-packed run; decode that run shape only.
            Reader lr(levels);
            uint64_t header = lr.varint();
            if (!(header & 1) || (header >> 1) * 8 < static_cast<uint64_t>(g.num_rows) ||
                (header >> 1) != levels.size() - lr.pos())
                throw FormatError("unexpected definition level run");
            std::string_view bits = levels.substr(lr.pos());
            size_t pos = 4 + levels_len;
            uint64_t nth = 0;  // non-null values so far (boolean bit index)
            const size_t bool_start = pos;
            auto& col = out[c];
            for (int64_t row = 0; row < g.num_rows; ++row) {
                if (!((static_cast<uint8_t>(bits[row / 8]) >> (row % 8)) & 1)) {
                    col.emplace_back(std::monostate{});
                    continue;
                }
                switch (ch.physical_type) {
                    case kTypeBoolean:
                        col.emplace_back(((get_le(body, bool_start + nth / 8, 1) >> (nth % 8)) & 1) != 0);
                        break;
                    case kTypeInt64:
                        col.emplace_back(static_cast<int64_t>(get_le(body, pos, 8)));
                        pos += 8;
                        break;
                    case kTypeDouble: {
                        uint64_t b = get_le(body, pos, 8);
                        double d;
                        std::memcpy(&d, &b, 8);
                        col.emplace_back(d);
                        pos += 8;
                        break;
                    }
                    default: {
                        uint64_t n = get_le(body, pos, 4);
                        if (n > body.size() - pos - 4) throw FormatError("string past the page");
                        col.emplace_back(body.substr(pos + 4, n));
                        pos += 4 + n;
                    }
                }
                ++nth;
            }
            const size_t end = ch.physical_type == kTypeBoolean ? bool_start + (nth + 7) / 8 : pos;
            if (end != body.size()) throw FormatError("page has bytes after its values");
        }
    }
    return out;
}

}  // namespace core::parquet
