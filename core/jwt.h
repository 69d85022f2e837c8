// HS256 JSON Web Tokens. Only HS256 is accepted: the header's `alg` must be exactly
// that, so `none` and algorithm-confusion tokens fail before any claim is read.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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

// A worker's cache of access tokens it has verified (issue 18): the same token
// is sent with every request of a session, and verifying it (three base64
// decodes, an HMAC, two JSON parses) cost about 6 us of a 304's ~100 us.
// Entries are keyed by the token's exact bytes under one secret, so a hit is a
// token whose signature and claims this worker has already checked: the same
// bytes verify the same way again, except for time, and `exp` is compared with
// `now` on every hit exactly as jwt_verify_access does (an expired token is
// refused, and forgotten, at the same second either way). Only tokens that
// verified are stored; any other is checked in full every time. Revocation is
// not the cache's business: the caller checks the user's token version and
// revoked jtis after verify() as before (AuthService::check_access_token), so a
// logout or password change is honoured within revocation_cache_seconds as
// without the cache. Bounded: at most max_entries tokens (of at most 8 KiB, the
// verifier's limit), all dropped when full; a token stays at most until its exp.
class VerifiedTokenCache {
public:
    explicit VerifiedTokenCache(size_t max_entries = 256) : max_(max_entries) {}
    // jwt_verify_access, answered from the cache for a token that verified before.
    JwtStatus verify(std::string_view token, std::string_view secret, int64_t now, AccessClaims& out);
    size_t size() const { return entries_.size(); }
    uint64_t hits() const { return hits_; }

private:
    struct Hash {  // looks a string_view up without copying it
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    size_t max_;
    std::string secret_;
    std::unordered_map<std::string, AccessClaims, Hash, std::equal_to<>> entries_;
    uint64_t hits_ = 0;
};

}  // namespace core
