// HS256 access tokens. Any string verifies to a status; one that verifies carries
// an unexpired subject and role, and signing its claims again verifies to the same
// claims. Claims built from the input sign and verify back unchanged, and never
// verify under another secret.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/jwt.h"
#include "fuzz/fuzz_support.h"

namespace {

constexpr std::string_view kSecret = "fuzz-jwt-secret";
constexpr int64_t kNow = 1760000000;

bool same(const core::AccessClaims& a, const core::AccessClaims& b) {
    return a.sub == b.sub && a.role == b.role && a.iat == b.iat && a.exp == b.exp && a.ver == b.ver;
}

void check_round_trip(const core::AccessClaims& c) {
    std::string token = core::jwt_sign_access(c, kSecret);
    core::AccessClaims back;
    core::JwtStatus st = core::jwt_verify_access(token, kSecret, kNow, back);
    if (token.size() > 8192) {
        FUZZ_CHECK(st == core::JwtStatus::malformed);
        return;
    }
    if (c.exp <= kNow) {
        FUZZ_CHECK(st == core::JwtStatus::expired);
        return;
    }
    FUZZ_CHECK(st == core::JwtStatus::ok);
    FUZZ_CHECK(same(back, c));
    core::AccessClaims other;
    FUZZ_CHECK(core::jwt_verify_access(token, "another-secret", kNow, other) == core::JwtStatus::bad_signature);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view token(reinterpret_cast<const char*>(data), size);
    core::AccessClaims claims;
    if (core::jwt_verify_access(token, kSecret, kNow, claims) == core::JwtStatus::ok) {
        FUZZ_CHECK(claims.exp > kNow);
        check_round_trip(claims);
    }

    FuzzedDataProvider in(data, size);
    core::AccessClaims c;
    c.iat = in.ConsumeIntegral<int64_t>();
    c.exp = in.ConsumeBool() ? kNow + in.ConsumeIntegralInRange<int64_t>(-10, 100000) : in.ConsumeIntegral<int64_t>();
    c.ver = in.ConsumeIntegral<int64_t>();
    c.role = in.ConsumeRandomLengthString(32);
    c.sub = in.ConsumeRemainingBytesAsString();
    check_round_trip(c);
    return 0;
}
