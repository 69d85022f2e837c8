// Small wrappers over OpenSSL: hashes, HMAC, randomness and base64url.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace core {

std::string sha256_raw(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string hex_encode(std::string_view raw);

// Incremental SHA-256 for streams (files, uploads).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::string final_hex();

private:
    void* ctx_;
};

std::string hmac_sha256(std::string_view key, std::string_view data);
// Constant-time comparison of two byte strings (length leaks, content does not).
bool constant_time_equal(std::string_view a, std::string_view b);
// Cryptographically secure random bytes; throws on failure.
std::string random_bytes(size_t n);

std::string base64url_encode(std::string_view raw);
// Standard base64 (RFC 4648 section 4: + and /, padded with =).
std::string base64_encode(std::string_view raw);
// Strict decoder: rejects padding, whitespace and characters outside the alphabet.
bool base64url_decode(std::string_view in, std::string& out);

}  // namespace core
