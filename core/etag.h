// Conditional requests: entity tags and If-None-Match (RFC 9110 section 13.1.2).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/http.h"

namespace core {

// "\"" + value + "\"": a strong entity tag.
std::string strong_etag(std::string_view value);

// True when an If-None-Match header value matches the strong tag "<value>":
// `*`, the tag itself, its weak form W/"<value>", or either as one member of a
// comma-separated list (weak comparison, as the RFC prescribes for this header).
bool if_none_match_matches(std::string_view header, std::string_view value);

// The 304 (ETag "<value>", Cache-Control: no-cache, no body) when the request's
// If-None-Match matches `value`; nullopt otherwise. Handlers answer conditional
// requests themselves because nginx's check knows only its own mtime-size tag.
std::optional<Response> not_modified(const Request& req, std::string_view value);

}  // namespace core
