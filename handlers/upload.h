// Receiving one file from a streamed multipart/form-data body (app bundle push,
// attachment upload): chunk by chunk into a sink, so no upload is held in memory.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/http.h"

namespace handlers {

// What a multipart body may carry beyond the file itself (boundaries, part headers).
constexpr int64_t kUploadOverheadBytes = 64 * 1024;

struct UploadField {
    const char* name;      // the form field, e.g. "bundle"
    const char* the_noun;  // for messages: "the ZIP"
    const char* a_noun;    // for messages: "a ZIP file"
    // Any other part is refused (not only a second `name`), for uploads whose
    // contract has exactly one part.
    bool only_part = false;
};

struct UploadedPart {
    std::string content_type;  // the part's Content-Type, "" when absent
};

// Reads the whole body (at most `body_limit` bytes, else 413) and streams the data
// of the part `field.name` into `sink`. 400 validation problems: not
// multipart/form-data, a malformed or cut-off body, the field missing or repeated
// (or another part, with only_part). Exceptions from `sink` pass through.
UploadedPart receive_upload(core::Request& req, const UploadField& field, int64_t body_limit,
                            const std::function<void(const char*, size_t)>& sink);

}  // namespace handlers
