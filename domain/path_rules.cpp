#include "domain/path_rules.h"

namespace domain {

std::vector<std::string_view> split_segments(std::string_view path) {
    std::vector<std::string_view> segs;
    size_t start = 0;
    while (true) {
        size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            segs.push_back(path.substr(start));
            return segs;
        }
        segs.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
}

std::optional<std::string_view> bad_segment(std::string_view path) {
    for (std::string_view seg : split_segments(path))
        if (seg.empty() || seg == "." || seg == "..") return seg;
    return std::nullopt;
}

bool has_control_character(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

bool valid_attachment_id(std::string_view id) {
    if (id.empty() || id.size() > 255 || id.front() == '.') return false;
    for (unsigned char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    return true;
}

}  // namespace domain
