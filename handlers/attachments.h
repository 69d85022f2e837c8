// The attachment endpoints (contract section 7): upload, download and HEAD (the
// bytes sent by nginx through X-Accel-Redirect), delete, and the delta manifest.
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response attachment_put(Context& ctx, core::Request& req);
// The largest attachment (attachment_max_bytes), and the largest upload body that can
// carry it (its multipart framing added): the route's body limit.
int64_t attachment_max_bytes(const Context& ctx);
int64_t attachment_body_limit(const Context& ctx);
core::Response attachment_get(Context& ctx, core::Request& req);
core::Response attachment_delete(Context& ctx, core::Request& req);
core::Response attachment_manifest(Context& ctx, core::Request& req);

// The scheme, host and port a download_url starts with: `public_base_url` when
// configured, else https:// and the request's Host. nullopt when the Host header
// is missing or not a plain host[:port].
std::optional<std::string> download_base(const std::string& public_base_url, const std::string* host);

}  // namespace handlers
