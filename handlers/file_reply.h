// The reply for a stored file that nginx sends from disk (app bundle files and
// ZIPs, attachments): one helper for both stores.
#pragma once
#include <string>

#include "core/http.h"

namespace handlers {

// 304 when If-None-Match matches `sha256`; otherwise the 200 that nginx completes
// from disk (X-Accel-Redirect to `accel_prefix` + `accel_path`). nginx's own
// conditional check knows only its mtime-size ETag, so the worker answers the
// conditional request itself. The internal location copies X-Synkronus-Etag (and
// X-Synkronus-Preview) into ETag (and x-is-preview), since the headers of an
// X-Accel-Redirect answer are otherwise dropped.
// Asked as a file grant (core/grant.h), it answers which internal URI nginx may send
// for this request from now on; `type_suffix`: the internal location takes a `.ext`
// that types the file (the attachment store, whose file names have no extension).
core::Response file_reply(const core::Request& req, std::string accel_prefix, const std::string& accel_path,
                          const std::string& content_type, const std::string& sha256, bool preview = false,
                          bool type_suffix = false);

}  // namespace handlers
