#include "domain/bundle_zip.h"

#include "core/json.h"
#include "core/utf8.h"
#include "domain/path_rules.h"

#include <algorithm>
#include <limits>

#include <rapidjson/error/en.h>

namespace domain {

namespace {

constexpr size_t kMaxFormJsonDepth = 128;

const std::set<std::string, std::less<>> kBuiltinRenderers = {
    "text", "number", "integer", "boolean", "date", "time", "datetime", "range", "select",
    "combo", "radio", "checkbox", "toggle", "group", "categorization", "category",
    "multiselect", "textarea", "slider", "rating", "builtin-text", "image", "signature",
    "audio", "video", "file", "qrcode",
};

std::string_view strip_bom(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    return text;
}

// Counted on the text, so nothing too deep is ever built.
bool nesting_within_limit(std::string_view text) { return core::json_depth(text) <= kMaxFormJsonDepth; }

constexpr unsigned kJsonFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

}  // namespace

// Names go into a problem+json detail, so the bytes that cannot appear there
// readably (controls, and anything of a name that is not UTF-8) become '?'.
std::string printable_entry_name(std::string_view name) {
    const bool utf8 = core::utf8_valid(name);
    std::string out;
    out.reserve(name.size());
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80))
            out += '?';
        else
            out += static_cast<char>(c);
    }
    return out;
}

void refuse_entry(std::string_view name, const std::string& reason) {
    std::string shown = printable_entry_name(name);
    throw BundleError("Bundle entry \"" + shown + "\" " + reason, shown);
}

bool is_directory_entry(std::string_view name) { return !name.empty() && name.back() == '/'; }

bool is_ignored_entry(std::string_view name) {
    auto segs = split_segments(name);
    return segs.front() == "__MACOSX" || segs.back() == ".DS_Store";  // Finder litter
}

void check_entry_name(std::string_view name, const BundleLimits& limits) {
    if (name.empty()) refuse_entry(name, "has an empty name");
    if (has_control_character(name)) refuse_entry(name, "has a control character in its name");
    if (name.size() > limits.max_name_bytes)
        refuse_entry(name, "has a name longer than " + std::to_string(limits.max_name_bytes) + " bytes");
    if (!core::utf8_valid(name)) refuse_entry(name, "has a name that is not valid UTF-8");
    if (name.find('\\') != std::string_view::npos) refuse_entry(name, "has a backslash in its name");
    if (name.front() == '/') refuse_entry(name, "has an absolute name");
    if (name.size() >= 2 && name[1] == ':' &&
        ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        refuse_entry(name, "has a drive letter in its name");
    std::string_view body = is_directory_entry(name) ? name.substr(0, name.size() - 1) : name;
    if (auto seg = bad_segment(body)) {
        if (seg->empty()) refuse_entry(name, "has an empty path segment");
        refuse_entry(name, "has a \"" + std::string(*seg) + "\" path segment");
    }
}

EntryRole classify_entry(const std::string& name) {
    auto segs = split_segments(name);
    if (segs[0] == "app" && segs.size() >= 2) return {};
    if (segs[0] == "forms") {
        if (segs.size() == 3 && (segs[2] == "schema.json" || segs[2] == "ui.json"))
            return {segs[2] == "schema.json" ? EntryKind::schema : EntryKind::ui, std::string(segs[1])};
        refuse_entry(name, "is not allowed: forms/ holds only forms/<name>/schema.json and forms/<name>/ui.json");
    }
    if (segs[0] == "renderers") {
        if (segs.size() == 3 && segs[2] == "renderer.jsx") return {EntryKind::renderer, std::string(segs[1])};
        refuse_entry(name, "is not allowed: renderers/ holds only renderers/<name>/renderer.jsx");
    }
    refuse_entry(name, "lies outside app/, forms/ and renderers/");
}

bool exceeds_ratio(uint64_t size, uint64_t comp_size, const BundleLimits& limits) {
    if (size <= limits.ratio_floor) return false;
    uint64_t comp = std::max<uint64_t>(comp_size, 1);
    if (comp > std::numeric_limits<uint64_t>::max() / limits.max_ratio) return false;
    return size > comp * limits.max_ratio;
}

void check_bundle_layout(const std::vector<std::pair<std::string, EntryRole>>& files) {
    // A file that is also another file's directory could not be extracted.
    std::set<std::string> names;
    for (const auto& f : files) names.insert(f.first);
    for (const auto& [name, role] : files)
        for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1))
            if (names.count(name.substr(0, slash)))
                refuse_entry(name, "lies under \"" + name.substr(0, slash) + "\", which is a file");
    if (!names.count("app/index.html")) refuse_entry("app/index.html", "is missing: every bundle needs one");
    std::set<std::string> schemas, uis;
    for (const auto& [name, role] : files) {
        if (role.kind == EntryKind::schema) schemas.insert(role.owner);
        if (role.kind == EntryKind::ui) uis.insert(role.owner);
    }
    const std::string pair_rule = "is missing: every form needs schema.json and ui.json";
    for (const auto& form : schemas)
        if (!uis.count(form)) refuse_entry("forms/" + form + "/ui.json", pair_rule);
    for (const auto& form : uis)
        if (!schemas.count(form)) refuse_entry("forms/" + form + "/schema.json", pair_rule);
}

rapidjson::Document parse_form_entry(const std::string& name, std::string_view text) {
    text = strip_bom(text);
    if (!nesting_within_limit(text))
        refuse_entry(name, "nests deeper than " + std::to_string(kMaxFormJsonDepth) + " levels");
    rapidjson::Document doc;
    doc.Parse<kJsonFlags>(text.data(), text.size());
    if (doc.HasParseError())
        refuse_entry(name, "is not valid JSON (at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
                               rapidjson::GetParseError_En(doc.GetParseError()) + ")");
    if (!doc.IsObject()) refuse_entry(name, "must be a JSON object");
    return doc;
}

void check_form_renderers(const std::string& schema_name, const rapidjson::Value& schema,
                          const std::set<std::string>& bundled) {
    std::vector<const rapidjson::Value*> todo{&schema};
    while (!todo.empty()) {
        const rapidjson::Value* v = todo.back();
        todo.pop_back();
        if (v->IsArray()) {
            for (const auto& item : v->GetArray()) todo.push_back(&item);
        } else if (v->IsObject()) {
            for (const auto& m : v->GetObject()) {
                std::string_view key(m.name.GetString(), m.name.GetStringLength());
                if ((key == "x-renderer" || key == "rendererType") && m.value.IsString()) {
                    std::string ref(m.value.GetString(), m.value.GetStringLength());
                    if (!bundled.count(ref) && !kBuiltinRenderers.count(ref))
                        refuse_entry(schema_name, "refers to renderer \"" + printable_entry_name(ref) +
                                                      "\", which is neither bundled nor built in");
                }
                todo.push_back(&m.value);
            }
        }
    }
}

std::optional<rapidjson::Document> parse_form_json(std::string_view text) {
    text = strip_bom(text);
    if (!nesting_within_limit(text)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse<kJsonFlags>(text.data(), text.size());
    if (doc.HasParseError()) return std::nullopt;
    return doc;
}

}  // namespace domain
