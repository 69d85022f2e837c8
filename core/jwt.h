// HS256 JSON Web Tokens. Only HS256 is accepted: the header's `alg` must be exactly
// that, so `none` and algorithm-confusion tokens fail before any claim is read.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

struct AccessClaims {
    std::string sub;        // username
    std::string role;
    int64_t iat = 0;
    int64_t exp = 0;
    int64_t ver = 0;        // the user's token version when issued (revocation)
    std::string jti;        // unique per issuance (optional when verifying older tokens)
};

std::string jwt_sign_access(const AccessClaims& c, std::string_view secret);

enum class JwtStatus { ok, malformed, bad_algorithm, bad_signature, expired, wrong_type, missing_claim };
const char* jwt_status_text(JwtStatus s);

// Verifies signature, `alg`, `typ` = access, `exp` (required, in the future), `sub`,
// `role`. `now` is injectable for tests.
JwtStatus jwt_verify_access(std::string_view token, std::string_view secret, int64_t now, AccessClaims& out);

}  // namespace core
