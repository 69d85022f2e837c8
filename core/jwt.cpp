#include "core/jwt.h"

#include <rapidjson/document.h>

#include "core/crypto.h"
#include "core/json.h"

namespace core {

namespace {
// With the length: a claim holding "\u0000" must not be cut short at it ("HS256\u0000x"
// is not HS256, and a subject keeps what follows a NUL).
std::string_view view_of(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }
}  // namespace

std::string jwt_sign_access(const AccessClaims& c, std::string_view secret) {
    static const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    JsonOut o;
    o.begin_object();
    o.key("sub").str(c.sub);
    o.key("username").str(c.sub);
    o.key("role").str(c.role);
    o.key("typ").str("access");
    o.key("ver").num(c.ver);
    o.key("iat").num(c.iat);
    o.key("exp").num(c.exp);
    if (!c.jti.empty()) o.key("jti").str(c.jti);
    o.end_object();
    std::string signing_input = header + "." + base64url_encode(o.take());
    return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

const char* jwt_status_text(JwtStatus s) {
    switch (s) {
        case JwtStatus::ok: return "ok";
        case JwtStatus::malformed: return "malformed token";
        case JwtStatus::bad_algorithm: return "unsupported token algorithm";
        case JwtStatus::bad_signature: return "invalid token signature";
        case JwtStatus::expired: return "token expired";
        case JwtStatus::wrong_type: return "not an access token";
        case JwtStatus::missing_claim: return "token lacks a required claim";
    }
    return "invalid token";
}

JwtStatus jwt_verify_access(std::string_view token, std::string_view secret, int64_t now, AccessClaims& out) {
    if (token.size() > 8192) return JwtStatus::malformed;
    auto d1 = token.find('.');
    if (d1 == std::string_view::npos) return JwtStatus::malformed;
    auto d2 = token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) return JwtStatus::malformed;

    std::string header_json, payload_json, sig;
    if (!base64url_decode(token.substr(0, d1), header_json) ||
        !base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload_json) ||
        !base64url_decode(token.substr(d2 + 1), sig))
        return JwtStatus::malformed;

    rapidjson::Document header;
    header.Parse(header_json.data(), header_json.size());
    if (header.HasParseError() || !header.IsObject()) return JwtStatus::malformed;
    auto alg = header.FindMember("alg");
    if (alg == header.MemberEnd() || !alg->value.IsString() || view_of(alg->value) != "HS256")
        return JwtStatus::bad_algorithm;

    std::string expected = hmac_sha256(secret, token.substr(0, d2));
    if (!constant_time_equal(expected, sig)) return JwtStatus::bad_signature;

    rapidjson::Document p;
    p.Parse(payload_json.data(), payload_json.size());
    if (p.HasParseError() || !p.IsObject()) return JwtStatus::malformed;
    auto get_str = [&](const char* k) -> const rapidjson::Value* {
        auto it = p.FindMember(k);
        return (it != p.MemberEnd() && it->value.IsString()) ? &it->value : nullptr;
    };
    auto get_int = [&](const char* k) -> const rapidjson::Value* {
        auto it = p.FindMember(k);
        return (it != p.MemberEnd() && it->value.IsInt64()) ? &it->value : nullptr;
    };
    const auto* typ = get_str("typ");
    if (!typ || view_of(*typ) != "access") return JwtStatus::wrong_type;
    const auto* exp = get_int("exp");
    const auto* sub = get_str("sub");
    const auto* role = get_str("role");
    if (!exp || !sub || !role) return JwtStatus::missing_claim;
    if (exp->GetInt64() <= now) return JwtStatus::expired;
    out.sub = view_of(*sub);
    out.role = view_of(*role);
    out.exp = exp->GetInt64();
    if (const auto* iat = get_int("iat")) out.iat = iat->GetInt64();
    if (const auto* ver = get_int("ver")) out.ver = ver->GetInt64();
    if (const auto* jti = get_str("jti")) out.jti = jti->GetString();
    return JwtStatus::ok;
}

JwtStatus VerifiedTokenCache::verify(std::string_view token, std::string_view secret, int64_t now, AccessClaims& out) {
    if (secret != secret_) {  // one secret per cache; a change (tests) starts afresh
        entries_.clear();
        secret_.assign(secret);
    }
    if (auto it = entries_.find(token); it != entries_.end()) {
        if (it->second.exp <= now) {
            entries_.erase(it);
            return JwtStatus::expired;
        }
        ++hits_;
        out = it->second;
        return JwtStatus::ok;
    }
    const JwtStatus st = jwt_verify_access(token, secret, now, out);
    if (st == JwtStatus::ok && max_ > 0) {
        if (entries_.size() >= max_) entries_.clear();
        entries_.emplace(std::string(token), out);
    }
    return st;
}

}  // namespace core
