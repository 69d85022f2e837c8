// Wall-clock helpers: RFC 3339 UTC formatting and parsing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

int64_t unix_now();
int64_t unix_now_ms();
// "2026-11-28T21:09:34Z"
std::string rfc3339(int64_t unix_seconds);
// "2026-11-28T21:09:34.123Z"
std::string rfc3339_ms(int64_t unix_millis);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff…]Z" into unix milliseconds (fraction truncated to ms).
std::optional<int64_t> parse_rfc3339_ms(const std::string& s);
// True for an RFC 3339 date-time as a client may write it (section 5.6): any offset
// (Z, z, +hh:mm, -hh:mm), any number of fraction digits, 'T' or 't', leap second 60,
// real calendar dates only.
bool valid_rfc3339(std::string_view s);

}  // namespace core
