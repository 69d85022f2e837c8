// The one UTF-8 decoder: strict (overlong forms, surrogates and values above
// U+10FFFF are invalid), used by JSON input, canonical JSON and every length check.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Number of code points, or nullopt when `s` is not valid UTF-8 (overlong forms,
// surrogates and values above U+10FFFF are invalid). Length limits in the contract
// count characters, not bytes.
std::optional<size_t> utf8_length(std::string_view s);

inline bool utf8_valid(std::string_view s) { return utf8_length(s).has_value(); }

// UTF-16 transcoding; returns false on invalid UTF-8.
bool utf8_to_utf16(std::string_view s, std::u16string& out);

}  // namespace core
