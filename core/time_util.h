// Wall-clock helpers: RFC 3339 UTC formatting and parsing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace core {

int64_t unix_now();
int64_t unix_now_ms();
// "2026-11-28T21:09:34Z"
std::string rfc3339(int64_t unix_seconds);
// "2026-11-28T21:09:34.123Z"
std::string rfc3339_ms(int64_t unix_millis);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff…]Z" into unix milliseconds (fraction truncated to ms).
std::optional<int64_t> parse_rfc3339_ms(const std::string& s);

}  // namespace core
