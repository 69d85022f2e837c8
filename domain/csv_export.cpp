#include "domain/csv_export.h"

#include <rapidjson/document.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>

#include "core/crypto.h"
#include "core/utf8.h"
#include "domain/canonical_json.h"

namespace domain {

namespace {

constexpr unsigned kParseFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseStopWhenDoneFlag;

void append_escaped_key(std::string& out, const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '.' || s[i] == '\\') out += '\\';
        out += s[i];
    }
}

// SAX walk of a data object: object keys extend the path; inside an array every
// event goes to `json_` instead, and the whole array becomes one leaf.
class Flattener : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Flattener> {
public:
    explicit Flattener(std::vector<FlatLeaf>& out) : out_(out) {}

    bool Null() { return in_array() ? raw("null") : leaf(LeafKind::null, std::nullopt); }
    bool Bool(bool b) { return in_array() ? raw(b ? "true" : "false") : leaf(LeafKind::boolean, std::string(b ? "true" : "false")); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
        return in_array() ? raw(std::string_view(s, n)) : leaf(LeafKind::number, std::string(s, n));
    }
    // A \u escape can decode to bytes that are not UTF-8 (a lone surrogate, as in
    // "\ude00") in data whose own bytes are: such a string or key stops the walk,
    // and flatten_data reports it as any other data that is not a JSON object.
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (!core::utf8_valid(std::string_view(s, n))) return false;
        if (!in_array()) return leaf(LeafKind::string, std::string(s, n));
        comma();
        canonical_json_string(std::string_view(s, n), json_);
        return true;
    }
    bool StartObject() {
        if (in_array()) {
            comma();
            json_ += '{';
            first_.push_back(true);
            ++array_depth_object_;
            return true;
        }
        ++depth_;
        path_len_.push_back(path_.size());
        return true;
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (!core::utf8_valid(std::string_view(s, n))) return false;
        if (in_array()) {
            comma();
            canonical_json_string(std::string_view(s, n), json_);
            json_ += ':';
            first_.back() = true;  // the value after a key takes no comma
            return true;
        }
        path_.resize(path_len_.back());
        if (depth_ > 1) path_ += '.';
        append_escaped_key(path_, s, n);
        return true;
    }
    bool EndObject(rapidjson::SizeType members) {
        if (in_array()) {
            json_ += '}';
            first_.pop_back();
            --array_depth_object_;
            return true;
        }
        path_.resize(path_len_.back());
        path_len_.pop_back();
        --depth_;
        // An empty nested object would otherwise vanish from the export.
        if (members == 0 && depth_ > 0) return leaf(LeafKind::json, std::string("{}"));
        return true;
    }
    bool StartArray() {
        if (depth_ == 0) return false;  // the top level must be an object
        comma();
        json_ += '[';
        first_.push_back(true);
        ++arrays_;
        return true;
    }
    bool EndArray(rapidjson::SizeType) {
        json_ += ']';
        first_.pop_back();
        if (--arrays_ == 0 && array_depth_object_ == 0) {
            std::string text;
            text.swap(json_);
            return leaf(LeafKind::json, std::move(text));
        }
        return true;
    }

private:
    bool in_array() const { return arrays_ > 0; }
    void comma() {
        if (first_.empty()) return;
        if (!first_.back()) json_ += ',';
        first_.back() = false;
    }
    bool raw(std::string_view text) {
        comma();
        json_ += text;
        return true;
    }
    bool leaf(LeafKind kind, CsvCell value) {
        if (depth_ == 0) return false;  // a scalar at the top level is not a data object
        out_.push_back({path_, std::move(value), kind});
        return true;
    }

    std::vector<FlatLeaf>& out_;
    std::string path_;
    std::vector<size_t> path_len_;
    int depth_ = 0;
    int arrays_ = 0;
    int array_depth_object_ = 0;
    std::vector<bool> first_;
    std::string json_;
};

// Reads one geolocation member as text: numbers as stored, null/absent as nullopt.
CsvCell geo_field(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) return std::nullopt;
    const auto& v = it->value;
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());  // numbers parsed as strings
    if (v.IsBool()) return std::string(v.GetBool() ? "true" : "false");
    return std::nullopt;
}

bool windows_device_name(std::string_view stem) {
    std::string up;
    for (char c : stem) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    static const char* kNames[] = {"CON", "PRN", "AUX", "NUL"};
    for (const char* n : kNames)
        if (up == n) return true;
    return up.size() == 4 && (up.rfind("COM", 0) == 0 || up.rfind("LPT", 0) == 0) && up[3] >= '1' && up[3] <= '9';
}

}  // namespace

void append_csv_field(std::string& out, const CsvCell& cell) {
    if (!cell) return;
    const std::string& s = *cell;
    if (!s.empty() && s.find_first_of("\",\r\n") == std::string::npos) {
        out += s;
        return;
    }
    out += '"';
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

void append_csv_row(std::string& out, const std::vector<CsvCell>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
        if (i) out += ',';
        append_csv_field(out, cells[i]);
    }
    out += "\r\n";
}

const std::vector<std::string>& export_fixed_columns() {
    static const std::vector<std::string> kColumns = {
        "observation_id", "form_version", "created_at", "updated_at", "synced_at", "deleted",
        "latitude", "longitude", "accuracy", "altitude", "altitude_accuracy", "last_modified_by"};
    return kColumns;
}

std::vector<FlatLeaf> flatten_data(std::string_view data_json) {
    std::vector<FlatLeaf> leaves;
    Flattener handler(leaves);
    rapidjson::Reader reader;
    rapidjson::MemoryStream ms(data_json.data(), data_json.size());
    bool top_is_object = false;
    for (char c : data_json) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        top_is_object = c == '{';
        break;
    }
    // Pushed data is valid UTF-8 (the push checks it); anything else is reported like
    // any other data that is not a JSON object, never thrown as another error type.
    if (!top_is_object || !core::utf8_valid(data_json) || reader.Parse<kParseFlags>(ms, handler).IsError())
        throw ExportError("record data is not a JSON object");
    return leaves;
}

void collect_data_columns(std::string_view data_json, std::set<std::string>& columns) {
    for (auto& leaf : flatten_data(data_json)) columns.insert(std::move(leaf.path));
}

void append_header_row(std::string& out, const std::vector<std::string>& data_columns) {
    std::vector<CsvCell> cells(export_fixed_columns().begin(), export_fixed_columns().end());
    cells.insert(cells.end(), data_columns.begin(), data_columns.end());
    append_csv_row(out, cells);
}

void append_record_row(std::string& out, const ExportRecord& r, const std::vector<std::string>& data_columns) {
    std::vector<CsvCell> cells;
    cells.reserve(export_fixed_columns().size() + data_columns.size());
    cells.emplace_back(r.observation_id);
    cells.emplace_back(r.form_version);
    cells.push_back(r.created_at);
    cells.push_back(r.updated_at);
    cells.emplace_back(r.synced_at);
    cells.emplace_back(r.deleted ? "true" : "false");
    static const char* kGeo[] = {"latitude", "longitude", "accuracy", "altitude", "altitude_accuracy"};
    rapidjson::Document geo;
    bool have_geo = r.geolocation && !geo.Parse<rapidjson::kParseNumbersAsStringsFlag>(r.geolocation->c_str()).HasParseError() &&
                    geo.IsObject();
    for (const char* k : kGeo) cells.push_back(have_geo ? geo_field(geo, k) : std::nullopt);
    cells.emplace_back(r.last_modified_by);

    auto leaves = flatten_data(r.data);
    std::sort(leaves.begin(), leaves.end(), [](const FlatLeaf& a, const FlatLeaf& b) { return a.path < b.path; });
    // Both sides are sorted: one merge walk fills the data columns.
    size_t li = 0;
    for (const auto& col : data_columns) {
        while (li < leaves.size() && leaves[li].path < col) ++li;
        if (li < leaves.size() && leaves[li].path == col) cells.push_back(std::move(leaves[li++].value));
        else cells.emplace_back(std::nullopt);
    }
    append_csv_row(out, cells);
}

std::string ExportFileNamer::name_for(std::string_view form_type) {
    std::string stem;
    bool changed = form_type.empty() || form_type.size() > 100 || windows_device_name(form_type);
    for (char c : form_type.substr(0, 100)) {
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        stem += safe ? c : '_';
        changed = changed || !safe;
    }
    if (changed) stem += "-" + core::sha256_hex(std::string(form_type)).substr(0, 12);
    // Unchanged names are distinct types; a changed one could still meet a type
    // spelled like its result, so the namer keeps the first and numbers the rest.
    std::string name = stem + extension_;
    for (int n = 2; used_.count(name); ++n) name = stem + "~" + std::to_string(n) + extension_;
    used_.insert(name);
    return name;
}

}  // namespace domain
