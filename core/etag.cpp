#include "core/etag.h"

namespace core {

std::string strong_etag(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 2);
    out += '"';
    out += value;
    out += '"';
    return out;
}

bool if_none_match_matches(std::string_view header, std::string_view value) {
    auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    size_t i = 0;
    while (i < header.size()) {
        while (i < header.size() && (is_space(header[i]) || header[i] == ',')) ++i;
        if (i >= header.size()) break;
        if (header[i] == '*') return true;
        if (header.compare(i, 2, "W/") == 0) i += 2;
        std::string_view tag;
        if (i < header.size() && header[i] == '"') {
            size_t close = header.find('"', i + 1);
            if (close == std::string_view::npos) return false;  // unterminated: matches nothing
            tag = header.substr(i + 1, close - i - 1);
            i = close + 1;
        } else {
            // A bare token is no valid entity tag, but clients that drop the quotes
            // still mean the hash they were given.
            size_t end = header.find(',', i);
            if (end == std::string_view::npos) end = header.size();
            tag = header.substr(i, end - i);
            while (!tag.empty() && is_space(tag.back())) tag.remove_suffix(1);
            i = end;
        }
        if (!tag.empty() && tag == value) return true;
    }
    return false;
}

std::optional<Response> not_modified(const Request& req, std::string_view value) {
    const std::string* inm = req.header("if-none-match");
    if (!inm || !if_none_match_matches(*inm, value)) return std::nullopt;
    Response r;
    r.status = 304;
    r.content_type.clear();
    r.add_header("ETag", strong_etag(value));
    r.add_header("Cache-Control", "no-cache");
    return r;
}

}  // namespace core
