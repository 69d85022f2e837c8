#include "domain/content_type.h"

#include <map>

namespace domain {

namespace {

// RFC 9110 token characters.
bool is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

const std::map<std::string, std::string, std::less<>>& mime_types() {
    static const std::map<std::string, std::string, std::less<>> types = {
        {"html", "text/html"},
        {"htm", "text/html"},
        {"css", "text/css"},
        {"js", "application/javascript"},
        {"mjs", "application/javascript"},
        {"jsx", "application/javascript"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"txt", "text/plain"},
        {"xml", "application/xml"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"wav", "audio/wav"},
        {"webm", "video/webm"},
        {"wasm", "application/wasm"},
    };
    return types;
}

std::optional<std::string> extension_for_type(std::string_view type) {
    // The first extension in the table's order (alphabetical) that has the type.
    for (const auto& [ext, t] : mime_types())
        if (t == type) return ext;
    return std::nullopt;
}

std::string mime_type_for(std::string_view path) {
    const auto& types = mime_types();
    std::string_view leaf = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
    size_t dot = leaf.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
    std::string ext(leaf.substr(dot + 1));
    for (char& c : ext)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    auto it = types.find(ext);
    return it == types.end() ? "application/octet-stream" : it->second;
}

std::string attachment_content_type(std::string_view part_content_type, std::string_view attachment_id) {
    std::string_view media = trim(part_content_type.substr(0, part_content_type.find(';')));
    size_t slash = media.find('/');
    bool valid = slash != std::string_view::npos && slash > 0 && slash + 1 < media.size() && media.size() <= 127;
    for (size_t i = 0; valid && i < media.size(); ++i)
        valid = i == slash || is_tchar(static_cast<unsigned char>(media[i]));
    if (valid) {
        std::string type = lower(media);
        if (type != "application/octet-stream") return type;
    }
    return mime_type_for(attachment_id);
}

}  // namespace domain
