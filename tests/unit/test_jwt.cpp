#include <ostream>
#include <string>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/crypto.h"
#include "core/jwt.h"

namespace core {
// Readable failure messages: "unsupported token algorithm != ok".
static std::ostream& operator<<(std::ostream& o, JwtStatus s) { return o << jwt_status_text(s); }
}  // namespace core

namespace {

const std::string kSecret = "an-hs256-secret-of-at-least-32-bytes!";
const int64_t kNow = 1'800'000'000;

core::AccessClaims claims() {
    core::AccessClaims c;
    c.sub = "alice";
    c.role = "read-write";
    c.iat = kNow - 10;
    c.exp = kNow + 3600;
    c.ver = 7;
    return c;
}

// A token with an arbitrary header and payload, signed HS256 with `secret` (or with
// the given raw signature when `sig` is set).
std::string craft(const std::string& header, const std::string& payload, const std::string& secret = kSecret) {
    std::string input = core::base64url_encode(header) + "." + core::base64url_encode(payload);
    return input + "." + core::base64url_encode(core::hmac_sha256(secret, input));
}

const std::string kHs256 = R"({"alg":"HS256","typ":"JWT"})";

std::string payload_with(const std::string& extra) {
    return R"({"sub":"alice","username":"alice","role":"admin","iat":1799999990)" + extra + "}";
}

core::JwtStatus verify(const std::string& token, int64_t now = kNow) {
    core::AccessClaims out;
    return core::jwt_verify_access(token, kSecret, now, out);
}

std::string part(const std::string& token, int i) {
    size_t b = 0;
    for (int k = 0; k < i; ++k) b = token.find('.', b) + 1;
    size_t e = token.find('.', b);
    return token.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jwt)

BOOST_AUTO_TEST_CASE(valid_token_round_trips) {
    std::string token = core::jwt_sign_access(claims(), kSecret);
    core::AccessClaims out;
    BOOST_TEST(core::jwt_verify_access(token, kSecret, kNow, out) == core::JwtStatus::ok);
    BOOST_TEST(out.sub == "alice");
    BOOST_TEST(out.role == "read-write");
    BOOST_TEST(out.iat == kNow - 10);
    BOOST_TEST(out.exp == kNow + 3600);
    BOOST_TEST(out.ver == 7);
}

BOOST_AUTO_TEST_CASE(jti_is_signed_and_read_back) {
    auto a = claims(), b = claims();
    a.jti = "0123456789abcdef0123456789abcdef";
    b.jti = "fedcba9876543210fedcba9876543210";
    std::string ta = core::jwt_sign_access(a, kSecret), tb = core::jwt_sign_access(b, kSecret);
    // Same user, same second: only the jti tells the two issuances apart.
    BOOST_TEST(ta != tb);
    core::AccessClaims out;
    BOOST_TEST(core::jwt_verify_access(ta, kSecret, kNow, out) == core::JwtStatus::ok);
    BOOST_TEST(out.jti == a.jti);
    // Tokens issued before jti existed stay valid until they expire.
    core::AccessClaims old;
    BOOST_TEST(core::jwt_verify_access(core::jwt_sign_access(claims(), kSecret), kSecret, kNow, old) ==
               core::JwtStatus::ok);
    BOOST_TEST(old.jti.empty());
}

BOOST_AUTO_TEST_CASE(signed_token_carries_the_contract_claims) {
    std::string token = core::jwt_sign_access(claims(), kSecret);
    std::string header, payload;
    BOOST_REQUIRE(core::base64url_decode(part(token, 0), header));
    BOOST_REQUIRE(core::base64url_decode(part(token, 1), payload));
    rapidjson::Document h, p;
    h.Parse(header.c_str());
    p.Parse(payload.c_str());
    BOOST_REQUIRE(h.IsObject());
    BOOST_REQUIRE(p.IsObject());
    BOOST_TEST(std::string(h["alg"].GetString()) == "HS256");
    BOOST_TEST(std::string(p["sub"].GetString()) == "alice");
    BOOST_TEST(std::string(p["username"].GetString()) == "alice");  // older clients read this
    BOOST_TEST(std::string(p["role"].GetString()) == "read-write");
    BOOST_TEST(std::string(p["typ"].GetString()) == "access");
    BOOST_TEST(p["exp"].GetInt64() == kNow + 3600);
    BOOST_TEST(p["iat"].GetInt64() == kNow - 10);
}

BOOST_AUTO_TEST_CASE(crafted_hs256_token_is_accepted) {
    // The verifier must not depend on our own signer's exact byte layout.
    std::string t = craft(R"({"typ":"JWT","alg":"HS256"})", payload_with(R"(,"typ":"access","exp":1800000100)"));
    core::AccessClaims out;
    BOOST_TEST(core::jwt_verify_access(t, kSecret, kNow, out) == core::JwtStatus::ok);
    BOOST_TEST(out.role == "admin");
    BOOST_TEST(out.ver == 0);
}

BOOST_AUTO_TEST_CASE(expired_token_is_rejected) {
    auto c = claims();
    c.exp = kNow - 1;
    BOOST_TEST(verify(core::jwt_sign_access(c, kSecret)) == core::JwtStatus::expired);
    c.exp = kNow;  // exp is the first instant the token is no longer valid
    BOOST_TEST(verify(core::jwt_sign_access(c, kSecret)) == core::JwtStatus::expired);
    c.exp = kNow + 1;
    BOOST_TEST(verify(core::jwt_sign_access(c, kSecret)) == core::JwtStatus::ok);
    // The same token expires as time passes.
    std::string token = core::jwt_sign_access(claims(), kSecret);
    BOOST_TEST(verify(token, kNow + 3600) == core::JwtStatus::expired);
}

BOOST_AUTO_TEST_CASE(wrong_signature_is_rejected) {
    std::string token = core::jwt_sign_access(claims(), "another-secret-that-is-also-32-bytes-long");
    BOOST_TEST(verify(token) == core::JwtStatus::bad_signature);

    std::string good = core::jwt_sign_access(claims(), kSecret);
    std::string sig = part(good, 2);
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    BOOST_TEST(verify(part(good, 0) + "." + part(good, 1) + "." + sig) == core::JwtStatus::bad_signature);
    // Empty signature.
    BOOST_TEST(verify(part(good, 0) + "." + part(good, 1) + ".") == core::JwtStatus::bad_signature);
}

BOOST_AUTO_TEST_CASE(alg_none_is_rejected) {
    std::string payload = payload_with(R"(,"typ":"access","exp":1800003600)");
    std::string unsigned_token =
        core::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + core::base64url_encode(payload) + ".";
    BOOST_TEST(verify(unsigned_token) == core::JwtStatus::bad_algorithm);
    // Even with a valid HMAC over the input, `none` is never accepted.
    BOOST_TEST(verify(craft(R"({"alg":"none","typ":"JWT"})", payload)) == core::JwtStatus::bad_algorithm);
    BOOST_TEST(verify(craft(R"({"alg":"None"})", payload)) == core::JwtStatus::bad_algorithm);
    BOOST_TEST(verify(craft(R"({"typ":"JWT"})", payload)) == core::JwtStatus::bad_algorithm);
    BOOST_TEST(verify(craft(R"({"alg":null})", payload)) == core::JwtStatus::bad_algorithm);
}

BOOST_AUTO_TEST_CASE(other_algorithms_are_rejected) {
    std::string payload = payload_with(R"(,"typ":"access","exp":1800003600)");
    for (const char* alg : {"HS512", "HS384", "RS256", "ES256", "hs256", "HS256 "}) {
        BOOST_TEST_CONTEXT("alg " << alg) {
            BOOST_TEST(verify(craft(std::string(R"({"alg":")") + alg + R"("})", payload)) ==
                       core::JwtStatus::bad_algorithm);
        }
    }
}

// Claims were read up to the first NUL (found by fuzzing).
BOOST_AUTO_TEST_CASE(claims_with_a_nul_are_read_whole) {
    std::string payload = payload_with(R"(,"typ":"access","exp":1800003600)");
    BOOST_TEST(verify(craft(R"({"alg":"HS256\u0000x"})", payload)) == core::JwtStatus::bad_algorithm);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"access\u0000x","exp":1800003600)"))) ==
               core::JwtStatus::wrong_type);
    core::AccessClaims c = claims();
    c.sub = std::string("alice\0bob", 9);
    core::AccessClaims out;
    BOOST_TEST(core::jwt_verify_access(core::jwt_sign_access(c, kSecret), kSecret, kNow, out) == core::JwtStatus::ok);
    BOOST_TEST(out.sub == c.sub);
}

BOOST_AUTO_TEST_CASE(missing_or_mistyped_exp_is_rejected) {
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"access")"))) == core::JwtStatus::missing_claim);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"access","exp":"1800003600")"))) ==
               core::JwtStatus::missing_claim);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"access","exp":null)"))) ==
               core::JwtStatus::missing_claim);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"access","exp":1.8e9)"))) ==
               core::JwtStatus::missing_claim);
}

BOOST_AUTO_TEST_CASE(missing_sub_or_role_is_rejected) {
    BOOST_TEST(verify(craft(kHs256, R"({"role":"admin","typ":"access","exp":1800003600})")) ==
               core::JwtStatus::missing_claim);
    BOOST_TEST(verify(craft(kHs256, R"({"sub":"alice","typ":"access","exp":1800003600})")) ==
               core::JwtStatus::missing_claim);
}

BOOST_AUTO_TEST_CASE(tampered_payload_is_rejected) {
    std::string token = core::jwt_sign_access(claims(), kSecret);
    std::string payload;
    BOOST_REQUIRE(core::base64url_decode(part(token, 1), payload));
    auto pos = payload.find("read-write");
    BOOST_REQUIRE(pos != std::string::npos);
    payload.replace(pos, 10, "admin");
    std::string forged = part(token, 0) + "." + core::base64url_encode(payload) + "." + part(token, 2);
    BOOST_TEST(verify(forged) == core::JwtStatus::bad_signature);

    // Extending exp is tampering too.
    auto c = claims();
    c.exp = kNow - 5;
    std::string old = core::jwt_sign_access(c, kSecret);
    BOOST_REQUIRE(core::base64url_decode(part(old, 1), payload));
    pos = payload.find(std::to_string(kNow - 5));
    BOOST_REQUIRE(pos != std::string::npos);
    payload.replace(pos, 10, std::to_string(kNow + 9999));
    BOOST_TEST(verify(part(old, 0) + "." + core::base64url_encode(payload) + "." + part(old, 2)) ==
               core::JwtStatus::bad_signature);
}

BOOST_AUTO_TEST_CASE(token_of_another_type_is_rejected) {
    // A refresh-like token correctly signed with the same secret must not pass as access.
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"refresh","exp":1800003600)"))) ==
               core::JwtStatus::wrong_type);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"exp":1800003600)"))) == core::JwtStatus::wrong_type);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":"Access","exp":1800003600)"))) ==
               core::JwtStatus::wrong_type);
    BOOST_TEST(verify(craft(kHs256, payload_with(R"(,"typ":1,"exp":1800003600)"))) == core::JwtStatus::wrong_type);
}

BOOST_AUTO_TEST_CASE(garbage_is_malformed) {
    std::string good = core::jwt_sign_access(claims(), kSecret);
    for (const std::string& t : {std::string(""), std::string("."), std::string(".."), std::string("abc"),
                                 std::string("a.b"), good + ".extra", std::string("a.b.c.d"),
                                 part(good, 0) + "=." + part(good, 1) + "." + part(good, 2),
                                 part(good, 0) + "." + part(good, 1) + "+/." + part(good, 2),
                                 std::string("Bearer ") + good, good + " ", std::string(9000, 'a')}) {
        BOOST_TEST_CONTEXT("token '" << t.substr(0, 60) << "'") {
            BOOST_TEST(verify(t) == core::JwtStatus::malformed);
        }
    }
    // Well-formed base64url around a header or payload that is not a JSON object.
    BOOST_TEST(verify(craft("not json", payload_with(R"(,"typ":"access","exp":1800003600)"))) ==
               core::JwtStatus::malformed);
    BOOST_TEST(verify(craft(R"(["HS256"])", payload_with(R"(,"typ":"access","exp":1800003600)"))) ==
               core::JwtStatus::malformed);
    BOOST_TEST(verify(craft(kHs256, "[1,2,3]")) == core::JwtStatus::malformed);
    BOOST_TEST(verify(craft(kHs256, "{\"sub\":")) == core::JwtStatus::malformed);
}

BOOST_AUTO_TEST_CASE(failed_verification_leaves_claims_untouched) {
    core::AccessClaims out;
    out.sub = "unchanged";
    auto c = claims();
    c.exp = kNow - 1;
    BOOST_TEST(core::jwt_verify_access(core::jwt_sign_access(c, kSecret), kSecret, kNow, out) ==
               core::JwtStatus::expired);
    BOOST_TEST(out.sub == "unchanged");
}

BOOST_AUTO_TEST_CASE(status_texts_are_distinct) {
    using S = core::JwtStatus;
    const S all[] = {S::ok, S::malformed, S::bad_algorithm, S::bad_signature, S::expired, S::wrong_type,
                     S::missing_claim};
    for (S a : all)
        for (S b : all)
            if (a != b) BOOST_TEST(std::string(core::jwt_status_text(a)) != std::string(core::jwt_status_text(b)));
}

BOOST_AUTO_TEST_SUITE_END()

// The worker's cache of verified tokens (issue 18): a hit must answer exactly what a
// full verification would, at the same `now`.
BOOST_AUTO_TEST_SUITE(verified_token_cache)

BOOST_AUTO_TEST_CASE(a_verified_token_is_answered_from_the_cache_with_its_claims) {
    core::VerifiedTokenCache cache(8);
    auto c = claims();
    c.jti = "j-1";
    const std::string tok = core::jwt_sign_access(c, kSecret);
    core::AccessClaims a, b;
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow, a), core::JwtStatus::ok);
    BOOST_CHECK_EQUAL(cache.hits(), 0u);
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow + 1, b), core::JwtStatus::ok);
    BOOST_CHECK_EQUAL(cache.hits(), 1u);  // fails without the cache: verified twice
    BOOST_CHECK_EQUAL(b.sub, "alice");
    BOOST_CHECK_EQUAL(b.role, "read-write");
    BOOST_CHECK_EQUAL(b.ver, 7);
    BOOST_CHECK_EQUAL(b.exp, kNow + 3600);
    BOOST_CHECK_EQUAL(b.jti, "j-1");
}

BOOST_AUTO_TEST_CASE(a_cached_token_expires_at_the_same_second_as_an_uncached_one) {
    core::VerifiedTokenCache cache(8);
    const std::string tok = core::jwt_sign_access(claims(), kSecret);
    core::AccessClaims out;
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow, out), core::JwtStatus::ok);
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow + 3599, out), core::JwtStatus::ok);
    BOOST_CHECK_EQUAL(core::jwt_verify_access(tok, kSecret, kNow + 3600, out), core::JwtStatus::expired);
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow + 3600, out), core::JwtStatus::expired);
    BOOST_CHECK_EQUAL(cache.size(), 0u);  // forgotten
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow + 3601, out), core::JwtStatus::expired);
}

BOOST_AUTO_TEST_CASE(only_tokens_that_verified_are_cached_and_a_changed_byte_is_checked_in_full) {
    core::VerifiedTokenCache cache(8);
    const std::string tok = core::jwt_sign_access(claims(), kSecret);
    std::string forged = tok;
    forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
    core::AccessClaims out;
    BOOST_CHECK_EQUAL(cache.verify(forged, kSecret, kNow, out), core::JwtStatus::bad_signature);
    BOOST_CHECK_EQUAL(cache.verify(forged, kSecret, kNow, out), core::JwtStatus::bad_signature);
    BOOST_CHECK_EQUAL(cache.size(), 0u);
    BOOST_CHECK_EQUAL(cache.verify(tok, kSecret, kNow, out), core::JwtStatus::ok);
    BOOST_CHECK_EQUAL(cache.verify(forged, kSecret, kNow, out), core::JwtStatus::bad_signature);
    // Under another secret the cached token is verified again, and fails.
    BOOST_CHECK_EQUAL(cache.verify(tok, "another-secret-of-at-least-32-bytes!!", kNow, out),
                      core::JwtStatus::bad_signature);
    BOOST_CHECK_EQUAL(cache.hits(), 0u);
}

BOOST_AUTO_TEST_CASE(the_cache_holds_at_most_its_bound) {
    core::VerifiedTokenCache cache(4);
    core::AccessClaims out;
    for (int i = 0; i < 10; ++i) {
        auto c = claims();
        c.jti = "jti-" + std::to_string(i);
        BOOST_CHECK_EQUAL(cache.verify(core::jwt_sign_access(c, kSecret), kSecret, kNow, out), core::JwtStatus::ok);
        BOOST_CHECK_LE(cache.size(), 4u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
