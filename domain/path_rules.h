// Rules for names that become file paths in a store (bundle entries, download
// paths, attachment ids): which segments and bytes could leave the store's
// directory or not survive a URL, a JSON string or a log line.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

namespace domain {

// `path` split at every '/': "a//b/" gives "a", "", "b", "".
std::vector<std::string_view> split_segments(std::string_view path);

// The first segment of `path` that is empty, "." or "..", if any: such a path is
// not a plain relative path inside one directory tree.
std::optional<std::string_view> bad_segment(std::string_view path);

// A byte below 0x20 or DEL.
bool has_control_character(std::string_view s);

// An attachment id (CONTRACT section 7): 1 to 255 characters of A-Z a-z 0-9 . _ -,
// not starting with a dot. Such an id is one safe file name on any filesystem.
bool valid_attachment_id(std::string_view id);
constexpr const char* kAttachmentIdRule =
    "attachment_id must be 1 to 255 characters of A-Z a-z 0-9 . _ - and must not start with a dot";

}  // namespace domain
