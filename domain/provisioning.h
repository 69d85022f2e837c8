// Device provisioning (CONTRACT §8): the password a new device gets and the FRMLS:
// string today's app scans to configure itself.
#pragma once
#include <string>
#include <string_view>

namespace domain {

// 32 lower-case letters and digits that cannot be mistaken for one another when typed
// from a screen (no o/0, no l/1): 5 bits per character.
inline constexpr std::string_view kPasswordAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
inline constexpr size_t kProvisionPasswordChars = 24;  // 120 bits
inline constexpr size_t kProvisionRandomBytes = 15;    // 24 * 5 / 8

// A typeable password from kProvisionRandomBytes random bytes: 24 characters of
// kPasswordAlphabet in groups of 4 joined by '-' (29 characters, 120 bits). Throws
// std::invalid_argument for another number of bytes.
std::string provision_password(std::string_view random_bytes);

// FRMLS:v:<b64("1")>;s:<b64(server_url)>;u:<b64(username)>;p:<b64(password)>;;
// with standard, padded base64.
std::string frmls_string(std::string_view server_url, std::string_view username, std::string_view password);

// "https://" + host, or "" when `host` is empty or not a plausible host[:port].
std::string default_server_url(std::string_view host);

}  // namespace domain
