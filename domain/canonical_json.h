// RFC 8785 (JSON Canonicalization Scheme) serialization. Record hashes are computed
// over this form, so two clients that send the same content in a different key order
// or number spelling get the same hash.
#pragma once
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace domain {

// Throws std::invalid_argument for input JCS cannot represent: non-finite numbers,
// strings or keys that are not valid UTF-8, and objects with duplicate keys
// (RFC 8785 requires I-JSON, and with duplicates the hash would depend on which
// one a reader keeps).
std::string canonical_json(const rapidjson::Value& value);
// Appends to `out`.
void canonical_json(const rapidjson::Value& value, std::string& out);

// Appends `s` as a canonical JSON string literal (quotes included).
void canonical_json_string(std::string_view s, std::string& out);

// Appends `v` as ECMAScript's Number.prototype.toString spells it.
void canonical_json_number(double v, std::string& out);

}  // namespace domain
