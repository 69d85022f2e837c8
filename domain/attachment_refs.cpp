#include "domain/attachment_refs.h"

#include <algorithm>
#include <set>

#include <rapidjson/document.h>

#include "domain/path_rules.h"

namespace domain {

namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

void collect(const rapidjson::Value& v, std::set<std::string>& out) {
    if (v.IsString()) {
        const std::string_view s(v.GetString(), v.GetStringLength());
        if (looks_like_attachment_id(s)) out.emplace(s);
    } else if (v.IsObject()) {
        for (const auto& m : v.GetObject()) collect(m.value, out);
    } else if (v.IsArray()) {
        for (const auto& e : v.GetArray()) collect(e, out);
    }
}

}  // namespace

bool looks_like_attachment_id(std::string_view s) {
    if (!valid_attachment_id(s)) return false;
    if (is_uuid(s)) return true;
    const size_t dot = s.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return false;
    const std::string_view ext = s.substr(dot + 1);
    return !ext.empty() && ext.size() <= 16 && std::all_of(ext.begin(), ext.end(), is_alnum) &&
           std::any_of(ext.begin(), ext.end(), is_alpha);
}

std::vector<std::string> attachment_refs(std::string_view data_json) {
    rapidjson::Document doc;
    // Stored data is canonical JSON made by the server, so its depth is already bounded.
    doc.Parse(data_json.data(), data_json.size());
    if (doc.HasParseError()) return {};
    std::set<std::string> found;
    collect(doc, found);
    std::vector<std::string> out(found.begin(), found.end());
    if (out.size() > kMaxRefsPerRecord) out.resize(kMaxRefsPerRecord);
    return out;
}

}  // namespace domain
