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

}  // namespace handlers
