// The app bundle endpoints (contract section 4): push, versions, switch, manifest,
// file and ZIP downloads (served by nginx through X-Accel-Redirect), changes.
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response bundle_push(Context& ctx, core::Request& req);
core::Response bundle_versions(Context& ctx, core::Request& req);
core::Response bundle_switch(Context& ctx, core::Request& req);
core::Response bundle_manifest(Context& ctx, core::Request& req);
core::Response bundle_download(Context& ctx, core::Request& req);
core::Response bundle_download_zip(Context& ctx, core::Request& req);
core::Response bundle_changes(Context& ctx, core::Request& req);

// The path of a file inside a version, as a client may send it: no empty, "." or
// ".." segment, not absolute, no backslash or control character. Only paths that
// pass are looked up (and only manifest paths are ever served).
bool valid_bundle_file_path(const std::string& path);
// Percent-encodes everything but unreserved characters and "/", for the
// X-Accel-Redirect URI (nginx decodes it once).
std::string accel_encode_path(const std::string& path);

}  // namespace handlers
