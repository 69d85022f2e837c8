#include "domain/parquet_export.h"

#include <charconv>
#include <cmath>

#include "domain/canonical_json.h"

namespace domain {

namespace {

using core::parquet::ColumnType;

constexpr size_t kFixed = 9;  // the columns before data_*

// A JSON number's text as a double, when a double holds it (finite).
std::optional<double> to_double(const std::string& text) {
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) return std::nullopt;
    return d;
}

}  // namespace

void ParquetLayout::observe(std::string_view data_json) {
    for (const auto& leaf : flatten_data(data_json)) {
        unsigned& s = seen_[leaf.path];
        switch (leaf.kind) {
            case LeafKind::null: break;
            case LeafKind::number: s |= to_double(*leaf.value) ? kNumber : kOther; break;
            case LeafKind::boolean: s |= kBoolean; break;
            case LeafKind::string: s |= kString; break;
            case LeafKind::json: s |= kOther; break;
        }
    }
}

std::vector<core::parquet::Column> ParquetLayout::columns() {
    std::vector<core::parquet::Column> cols = {
        {"observation_id", ColumnType::string}, {"form_type", ColumnType::string},
        {"form_version", ColumnType::string},   {"created_at", ColumnType::string},
        {"updated_at", ColumnType::string},     {"synced_at", ColumnType::string},
        {"deleted", ColumnType::boolean},       {"version", ColumnType::int64},
        {"geolocation", ColumnType::string}};
    index_.clear();
    for (const auto& [path, s] : seen_) {  // std::map: bytewise order, as in the CSV export
        Mode mode = s == kNumber    ? Mode::number
                    : s == kBoolean ? Mode::boolean
                    : (s == kString || s == 0) ? Mode::text
                                               : Mode::json;
        ColumnType type = mode == Mode::number    ? ColumnType::float64
                          : mode == Mode::boolean ? ColumnType::boolean
                                                  : ColumnType::string;
        index_.emplace(path, std::make_pair(cols.size(), mode));
        cols.push_back({"data_" + path, type});
    }
    seen_.clear();
    return cols;
}

void ParquetLayout::write_row(core::parquet::Writer& w, const std::string& form_type, const ExportRecord& r) const {
    w.set_string(0, r.observation_id);
    w.set_string(1, form_type);
    w.set_string(2, r.form_version);
    if (r.created_at) w.set_string(3, *r.created_at);
    if (r.updated_at) w.set_string(4, *r.updated_at);
    w.set_string(5, r.synced_at);
    w.set_bool(6, r.deleted);
    w.set_int64(7, r.change_id);
    if (r.geolocation) w.set_string(8, *r.geolocation);
    std::string json;
    for (const auto& leaf : flatten_data(r.data)) {
        auto it = index_.find(leaf.path);
        // The first pass saw every leaf of this snapshot; one it did not see means
        // the two passes read different data, and the file would be wrong.
        if (it == index_.end()) throw ExportError("a data leaf appeared between the two passes of the export");
        if (leaf.kind == LeafKind::null) continue;
        const auto [col, mode] = it->second;
        switch (mode) {
            case Mode::number: w.set_double(col, *to_double(*leaf.value)); break;
            case Mode::boolean: w.set_bool(col, *leaf.value == "true"); break;
            case Mode::text: w.set_string(col, *leaf.value); break;
            case Mode::json:
                if (leaf.kind == LeafKind::string) {
                    json.clear();
                    canonical_json_string(*leaf.value, json);
                    w.set_string(col, json);
                } else {
                    w.set_string(col, *leaf.value);  // numbers as stored, true/false, JSON text
                }
                break;
        }
    }
    w.end_row();
}

}  // namespace domain
