// Conditional requests: entity tags and If-None-Match (RFC 9110 section 13.1.2).
#pragma once
#include <string>
#include <string_view>

namespace core {

// "\"" + value + "\"": a strong entity tag.
std::string strong_etag(std::string_view value);

// True when an If-None-Match header value matches the strong tag "<value>":
// `*`, the tag itself, its weak form W/"<value>", or either as one member of a
// comma-separated list (weak comparison, as the RFC prescribes for this header).
bool if_none_match_matches(std::string_view header, std::string_view value);

}  // namespace core
