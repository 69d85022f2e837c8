// Content types of stored files: by extension (bundle files, attachments whose
// upload named none), and the choice for an uploaded attachment.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace domain {

// Content-Type by the file name's extension (case-insensitive), as nginx's
// mime.types gives it for the common types; application/octet-stream otherwise.
std::string mime_type_for(std::string_view path);

// The table behind mime_type_for: extension (lower case) -> type. The snippet's file
// locations carry the same table as an nginx `types` block, for the files nginx sends
// on a grant (core/grant.h); tests/unit/test_content_type.cpp holds them equal.
const std::map<std::string, std::string, std::less<>>& mime_types();
// An extension mime_type_for maps to `type` (nullopt: none does).
std::optional<std::string> extension_for_type(std::string_view type);

// The content type stored for an attachment (CONTRACT section 7): the upload
// part's Content-Type when it names a real type (a valid type/subtype other than
// application/octet-stream, lower-cased, parameters dropped), else the type by the
// id's extension, else application/octet-stream.
std::string attachment_content_type(std::string_view part_content_type, std::string_view attachment_id);

}  // namespace domain
