#include "handlers/upload.h"

#include "core/api_error.h"
#include "core/multipart.h"

namespace handlers {

using core::ApiError;

UploadedPart receive_upload(core::Request& req, const UploadField& field, int64_t body_limit,
                            const std::function<void(const char*, size_t)>& sink) {
    const std::string name = field.name;
    auto refuse = [&](const std::string& message) { return ApiError::validation({{name, message}}); };
    const std::string* ct = req.header("content-type");
    auto boundary = ct ? core::multipart_boundary(*ct) : std::nullopt;
    if (!boundary)
        throw ApiError::validation(
            {{name, "the request must be multipart/form-data with " + std::string(field.the_noun) + " in the field '" +
                        name + "'"}},
            "The request must be multipart/form-data");
    UploadedPart out;
    bool seen = false, in_field = false, twice = false, other = false;
    core::MultipartParser parser(*boundary, {
        [&](const core::MultipartPart& p) {
            in_field = p.name == name && !seen;
            if (p.name == name && seen) twice = true;
            if (p.name != name && field.only_part) other = true;
            if (in_field) {
                seen = true;
                out.content_type = p.content_type;
            }
        },
        [&](const char* data, size_t n) {
            if (in_field) sink(data, n);
        },
        [&] { in_field = false; },
    });
    int64_t total = 0;
    std::string buf(64 * 1024, '\0');
    try {
        while (size_t n = req.read_body(buf.data(), buf.size())) {
            total += static_cast<int64_t>(n);
            if (total > body_limit)
                throw ApiError::too_large("The upload exceeds the limit of " + std::to_string(body_limit) + " bytes");
            parser.feed(buf.data(), n);
            if (twice) throw refuse("the field '" + name + "' must appear once");
            if (other) throw refuse("the body must hold only the field '" + name + "'");
        }
        parser.finish();
    } catch (const core::MultipartError& e) {
        throw ApiError::validation({{name, e.what()}}, std::string("The multipart body is malformed: ") + e.what());
    }
    if (!seen) throw refuse(std::string(field.a_noun) + " in the field '" + name + "' is required");
    if (twice) throw refuse("the field '" + name + "' must appear once");
    if (other) throw refuse("the body must hold only the field '" + name + "'");
    return out;
}

}  // namespace handlers
