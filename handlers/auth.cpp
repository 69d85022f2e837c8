#include "handlers/auth.h"

#include "core/api_error.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/time_util.h"
#include "db/user_repository.h"
#include "services/user_service.h"

namespace handlers {

using core::ApiError;

namespace {

std::string token_pair_json(Context& ctx, const std::string& username, const std::string& role,
                            int64_t token_version, const std::string& refresh_token) {
    core::AccessClaims c;
    c.sub = username;
    c.role = role;
    c.iat = core::unix_now();
    c.exp = c.iat + ctx.cfg.integer("access_token_ttl");
    c.ver = token_version;
    core::JsonOut o;
    o.begin_object();
    o.key("token").str(core::jwt_sign_access(c, ctx.jwt_secret));
    o.key("refreshToken").str(refresh_token);
    o.key("expiresAt").num(c.exp);
    o.end_object();
    return o.take();
}

std::string new_refresh_token() { return core::base64url_encode(core::random_bytes(32)); }

ApiError rate_limited(int64_t seconds) {
    ApiError e(429, "rate-limited", "Too many failed logins; try again later");
    e.headers.emplace_back("Retry-After", std::to_string(seconds));
    return e;
}

}  // namespace

core::Response auth_login(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto password = f.required_string("password", 1, 4096);
    f.finish();

    db::LoginThrottle throttle(ctx.database());
    int64_t window = ctx.cfg.integer("login_failure_window");
    int64_t wait = std::max(
        throttle.retry_after("user", username->substr(0, 128), ctx.cfg.integer("login_max_failures_user"), window),
        throttle.retry_after("addr", req.remote_addr, ctx.cfg.integer("login_max_failures_addr"), window));
    if (wait > 0) throw rate_limited(wait);

    db::UserRepository users(ctx.database());
    std::optional<db::UserRow> user;
    if (services::valid_username(*username)) user = users.find_by_username(*username);
    // Verify against a dummy hash for unknown users: same work, same timing.
    bool ok = core::password_verify(*password, user ? user->password_hash : ctx.dummy_hash()) && user.has_value();
    if (!ok) {
        throttle.record_failure("user", username->substr(0, 128), window);
        throttle.record_failure("addr", req.remote_addr, window);
        core::log::info("failed login for '" + username->substr(0, 64) + "' from " + req.remote_addr);
        throw ApiError::unauthorized("Invalid username or password");
    }
    throttle.clear("user", *username);

    std::string refresh = new_refresh_token();
    std::string family = core::hex_encode(core::random_bytes(16));
    db::RefreshTokenRepository tokens(ctx.database());
    tokens.store(core::sha256_hex(refresh), family, user->username,
                 core::unix_now() + ctx.cfg.integer("refresh_token_ttl"));
    // Housekeeping piggybacks on logins, so no cron job is needed.
    if (core::random_bytes(1)[0] % 32 == 0) {
        tokens.delete_expired();
        throttle.delete_old(window);
    }
    return core::Response::json(token_pair_json(ctx, user->username, user->role, user->token_version, refresh));
}

core::Response auth_refresh(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto token = f.required_string("refreshToken", 1, 512);
    f.finish();

    std::string next = new_refresh_token();
    db::RefreshTokenRepository tokens(ctx.database());
    auto r = tokens.rotate(core::sha256_hex(*token), core::sha256_hex(next),
                           core::unix_now() + ctx.cfg.integer("refresh_token_ttl"));
    if (r.status == db::RotateStatus::reused) {
        core::log::warn("refresh token reused for '" + r.username + "'; revoked its login");
        throw ApiError::unauthorized("The refresh token was already used; the login has been revoked");
    }
    if (r.status != db::RotateStatus::ok) throw ApiError::unauthorized("Invalid or expired refresh token");
    // The role is read afresh: a role changed since login shows in the new token.
    db::UserRepository users(ctx.database());
    auto info = users.auth_info(r.username);
    if (!info) throw ApiError::unauthorized("Invalid or expired refresh token");
    return core::Response::json(token_pair_json(ctx, r.username, info->role, info->token_version, next));
}

void forget_auth_cache(Context& ctx, const std::string& username) { ctx.auth_cache.erase(username); }

core::Principal authenticate(Context& ctx, const core::Request& req) {
    const std::string* h = req.header("authorization");
    if (!h) throw ApiError::unauthorized("Missing bearer token");
    if (h->size() < 8 || strncasecmp(h->c_str(), "Bearer ", 7) != 0)
        throw ApiError::unauthorized("The Authorization header must be 'Bearer <token>'");
    std::string token = h->substr(7);
    core::AccessClaims c;
    auto st = core::jwt_verify_access(token, ctx.jwt_secret, core::unix_now(), c);
    if (st != core::JwtStatus::ok) throw ApiError::unauthorized(std::string("Invalid token: ") + core::jwt_status_text(st));
    auto role = core::parse_role(c.role);
    if (!role) throw ApiError::unauthorized("Invalid token: unknown role");

    int64_t now_ms = core::unix_now_ms();
    int64_t ttl_ms = ctx.cfg.integer("revocation_cache_seconds") * 1000;
    auto it = ctx.auth_cache.find(c.sub);
    bool fresh = false;
    auto read = [&] {
        db::UserRepository users(ctx.database());
        auto info = users.auth_info(c.sub);
        if (ctx.auth_cache.size() > 10000) ctx.auth_cache.clear();
        Context::AuthEntry e{info.has_value(), info ? info->token_version : 0, info ? info->role : "", now_ms};
        it = ctx.auth_cache.insert_or_assign(c.sub, e).first;
        fresh = true;
    };
    if (it == ctx.auth_cache.end() || now_ms - it->second.read_at_ms >= ttl_ms) read();
    auto revoked = [&] { return !it->second.exists || it->second.token_version != c.ver; };
    // A cached entry may predate a change made through another worker (a password reset,
    // a new user): the token is only refused on what the database says now.
    if (revoked() && !fresh) read();
    if (revoked()) throw ApiError::unauthorized("Invalid token: it has been revoked");
    return core::Principal{c.sub, *role};
}

}  // namespace handlers
