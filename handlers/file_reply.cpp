#include "handlers/file_reply.h"

#include "core/etag.h"

namespace handlers {

core::Response file_reply(const core::Request& req, std::string accel_prefix, const std::string& accel_path,
                          const std::string& content_type, const std::string& sha256, bool preview) {
    if (auto r = core::not_modified(req, sha256)) {
        if (preview) r->add_header("x-is-preview", "true");
        return *r;
    }
    if (accel_prefix.empty() || accel_prefix.back() != '/') accel_prefix += '/';
    core::Response r;
    r.status = 200;
    r.content_type = content_type;
    r.add_header("X-Accel-Redirect", accel_prefix + accel_path);
    r.add_header("X-Synkronus-Etag", core::strong_etag(sha256));
    if (preview) r.add_header("X-Synkronus-Preview", "true");
    return r;
}

}  // namespace handlers
