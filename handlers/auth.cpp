#include "handlers/auth.h"

#include <algorithm>

#include "core/api_error.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/time_util.h"
#include "db/user_repository.h"
#include "services/audit.h"
#include "services/user_service.h"

namespace handlers {

using core::ApiError;

namespace {

void write_token_pair(Context& ctx, core::JsonOut& o, const std::string& username, const std::string& role,
                      int64_t token_version, const std::string& refresh_token) {
    core::AccessClaims c;
    c.sub = username;
    c.role = role;
    c.iat = core::unix_now();
    c.exp = c.iat + ctx.cfg.integer("access_token_ttl");
    c.ver = token_version;
    // Unique per issuance: two tokens of one user in the same second still differ,
    // and a token quoted in a log line names the one issuance logged here.
    c.jti = core::hex_encode(core::random_bytes(16));
    core::log::info("access token " + c.jti + " issued to '" + username + "'");
    o.key("token").str(core::jwt_sign_access(c, ctx.jwt_secret));
    o.key("refreshToken").str(refresh_token);
    o.key("expiresAt").num(c.exp);
}

std::string new_refresh_token() { return core::base64url_encode(core::random_bytes(32)); }

}  // namespace

void write_new_session(Context& ctx, core::JsonOut& o, const std::string& username, const std::string& role,
                       int64_t token_version) {
    std::string refresh = new_refresh_token();
    std::string family = core::hex_encode(core::random_bytes(16));
    db::RefreshTokenRepository tokens(ctx.database());
    tokens.store(core::sha256_hex(refresh), family, username, core::unix_now() + ctx.cfg.integer("refresh_token_ttl"));
    // Housekeeping piggybacks on new sessions, so no cron job is needed.
    if (core::random_bytes(1)[0] % 32 == 0) {
        tokens.delete_expired();
        db::LoginThrottle(ctx.database()).delete_old(ctx.cfg.integer("login_failure_window"));
        db::UserRepository(ctx.database()).delete_expired_revocations();
        services::AuditService(ctx.database(), ctx.cfg.integer("audit_retention_days")).delete_expired();
    }
    write_token_pair(ctx, o, username, role, token_version, refresh);
}

// One budget of failed password checks per username and per client address, kept
// in the database so it holds across workers and hosts. Logins and change-password
// spend the same budget: both are guesses at the same password.
void check_password_guess(Context& ctx, const core::Request& req, const std::string& username,
                          const char* wrong_message, const std::function<bool()>& verify) {
    db::LoginThrottle throttle(ctx.database());
    const std::string user = username.substr(0, 128);  // the counter's key column
    const std::string& addr = req.remote_addr;
    const int64_t window = ctx.cfg.integer("login_failure_window");
    int64_t wait = std::max(throttle.retry_after("user", user, ctx.cfg.integer("login_max_failures_user"), window),
                            throttle.retry_after("addr", addr, ctx.cfg.integer("login_max_failures_addr"), window));
    if (wait > 0) {
        services::audit(ctx.database(), actor_of(req, user), "login.throttled", user.substr(0, 64),
                        domain::AuditDetail().add("retry_after_s", wait));
        ApiError e(429, "rate-limited", "Too many failed password attempts; try again later");
        e.headers.emplace_back("Retry-After", std::to_string(wait));
        throw e;
    }
    if (!verify()) {
        throttle.record_failure("user", user, window);
        throttle.record_failure("addr", addr, window);
        services::audit(ctx.database(), actor_of(req, user), "login.failed", user.substr(0, 64));
        core::log::info("wrong password for '" + username.substr(0, 64) + "' from " + addr);
        throw ApiError::unauthorized(wrong_message);
    }
    throttle.clear("user", user);
}

core::Response auth_login(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto password = f.required_string("password", 1, 4096);
    f.finish();

    db::UserRepository users(ctx.database());
    std::optional<db::UserRow> user;
    check_password_guess(ctx, req, *username, "Invalid username or password", [&] {
        if (services::valid_username(*username)) user = users.find_by_username(*username);
        // Verify against a dummy hash for unknown users: same work, same timing.
        return core::password_verify(*password, user ? user->password_hash : ctx.dummy_hash()) && user.has_value();
    });
    core::JsonOut o;
    o.begin_object();
    write_new_session(ctx, o, user->username, user->role, user->token_version);
    o.end_object();
    return core::Response::json(o.take());
}

core::Response auth_refresh(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto token = f.required_string("refreshToken", 1, 512);
    f.finish();

    std::string next = new_refresh_token();
    auto r = ctx.users().refresh(core::sha256_hex(*token), core::sha256_hex(next),
                                 core::unix_now() + ctx.cfg.integer("refresh_token_ttl"), actor_of(req));
    if (r.status == db::RotateStatus::reused) {
        core::log::warn("refresh token reused for '" + r.username + "'; revoked its login");
        throw ApiError::unauthorized("The refresh token was already used; the login has been revoked");
    }
    if (r.status != db::RotateStatus::ok) throw ApiError::unauthorized("Invalid or expired refresh token");
    // The role is read afresh: a role changed since login shows in the new token.
    db::UserRepository users(ctx.database());
    auto info = users.auth_info(r.username);
    if (!info) throw ApiError::unauthorized("Invalid or expired refresh token");
    core::JsonOut o;
    o.begin_object();
    write_token_pair(ctx, o, r.username, info->role, info->token_version, next);
    o.end_object();
    return core::Response::json(o.take());
}

services::Actor actor_of(const core::Request& req, const std::string& name) {
    std::string who = !name.empty() ? name : req.principal ? req.principal->username : "";
    return services::Actor{who, req.remote_addr, req.request_id};
}

core::Response auth_logout(Context& ctx, core::Request& req) {
    std::optional<std::string> refresh;
    if (!req.body.empty()) {
        auto body = core::parse_json_object(req.body);
        core::FieldReader f(body);
        refresh = f.optional_string("refreshToken", 1, 512);
        f.finish();
    }
    const std::string& me = req.principal->username;
    const std::string& jti = req.principal->token_id;
    ctx.users().logout(me, refresh ? std::optional(core::sha256_hex(*refresh)) : std::nullopt, jti,
                       req.principal->token_exp);
    forget_auth_cache(ctx, me);
    core::log::info("'" + me + "' signed out" + (jti.empty() ? "" : ": access token " + jti + " revoked"));
    core::Response r;
    r.status = 204;
    r.content_type = "";
    return r;
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
        Context::AuthEntry e{info.has_value(), info ? info->token_version : 0, info ? info->role : "", now_ms,
                             info ? info->revoked_jtis : std::vector<std::string>{}};
        it = ctx.auth_cache.insert_or_assign(c.sub, e).first;
        fresh = true;
    };
    if (it == ctx.auth_cache.end() || now_ms - it->second.read_at_ms >= ttl_ms) read();
    // A token ended by POST /auth/logout is named by its jti; the list is read with the
    // token version, so it reaches every worker and host within the same delay.
    auto revoked = [&] {
        const auto& e = it->second;
        return !e.exists || e.token_version != c.ver ||
               (!c.jti.empty() && std::find(e.revoked_jtis.begin(), e.revoked_jtis.end(), c.jti) != e.revoked_jtis.end());
    };
    // A cached entry may predate a change made through another worker (a password reset,
    // a new user): the token is only refused on what the database says now.
    if (revoked() && !fresh) read();
    if (revoked()) throw ApiError::unauthorized("Invalid token: it has been revoked");
    return core::Principal{c.sub, *role, c.jti, c.exp};
}

}  // namespace handlers
