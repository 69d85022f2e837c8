#include "handlers/file_reply.h"

#include "core/etag.h"
#include "core/grant.h"
#include "domain/content_type.h"

namespace handlers {

namespace {

// The file answer of a grant (core/grant.h): the internal URI nginx sends the file
// from, typed as the worker would type it. nginx types a file by its URI's extension
// (the snippet's `types`, the same table as domain::mime_types), so a file whose
// stored type is not its name's (an attachment's: `type_suffix`) gets a `.ext` the
// internal location drops again; a type no extension gives, a preview or an escaped
// path stay with a worker.
core::Response grant_answer(const std::string& accel_prefix, const std::string& accel_path,
                            const std::string& content_type, const std::string& sha256, bool preview,
                            bool type_suffix) {
    // The accel path is already percent-encoded (domain::accel_encode_path): one with no
    // escape is its own file name, and nginx takes a try_files fallback as it is.
    if (preview || accel_path.find('%') != std::string::npos) return core::grant::worker_answer();
    std::string uri = accel_prefix + accel_path;
    if (domain::mime_type_for(accel_path) != content_type) {
        if (!type_suffix) return core::grant::worker_answer();
        auto ext = domain::extension_for_type(content_type);
        if (!ext) return core::grant::worker_answer();
        uri += "." + *ext;
    }
    return core::grant::file_answer(uri, core::strong_etag(sha256));
}

}  // namespace

core::Response file_reply(const core::Request& req, std::string accel_prefix, const std::string& accel_path,
                          const std::string& content_type, const std::string& sha256, bool preview,
                          bool type_suffix) {
    if (accel_prefix.empty() || accel_prefix.back() != '/') accel_prefix += '/';
    if (req.grant == core::Grant::file)
        return grant_answer(accel_prefix, accel_path, content_type, sha256, preview, type_suffix);
    if (auto r = core::not_modified(req, sha256)) {
        if (preview) r->add_header("x-is-preview", "true");
        return *r;
    }
    core::Response r;
    r.status = 200;
    r.content_type = content_type;
    r.add_header("X-Accel-Redirect", accel_prefix + accel_path);
    r.add_header("X-Synkronus-Etag", core::strong_etag(sha256));
    if (preview) r.add_header("X-Synkronus-Preview", "true");
    return r;
}

}  // namespace handlers
