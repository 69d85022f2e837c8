// Content types of stored files: by extension (bundle files, attachments whose
// upload named none), and the choice for an uploaded attachment.
#pragma once
#include <string>
#include <string_view>

namespace domain {

// Content-Type by the file name's extension (case-insensitive), as nginx's
// mime.types gives it for the common types; application/octet-stream otherwise.
std::string mime_type_for(std::string_view path);

// The content type stored for an attachment (CONTRACT section 7): the upload
// part's Content-Type when it names a real type (a valid type/subtype other than
// application/octet-stream, lower-cased, parameters dropped), else the type by the
// id's extension, else application/octet-stream.
std::string attachment_content_type(std::string_view part_content_type, std::string_view attachment_id);

}  // namespace domain
