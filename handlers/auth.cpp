#include "handlers/auth.h"

#include <strings.h>

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "core/log.h"
#include "services/auth_service.h"

namespace handlers {

using core::ApiError;

void write_session(core::JsonOut& o, const services::Session& s) {
    o.key("token").str(s.access_token);
    o.key("refreshToken").str(s.refresh_token);
    o.key("expiresAt").num(s.expires_at);
}

void throw_unless_ok(const services::GuessOutcome& out, const char* wrong_message) {
    switch (out.kind) {
        case services::GuessOutcome::Kind::ok: return;
        case services::GuessOutcome::Kind::wrong: throw ApiError::unauthorized(wrong_message);
        case services::GuessOutcome::Kind::throttled: {
            ApiError e(429, "rate-limited", "Too many failed password attempts; try again later");
            e.headers.emplace_back("Retry-After", std::to_string(out.retry_after_s));
            throw e;
        }
    }
}

core::Response auth_login(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto password = f.required_string("password", 1, 4096);
    f.finish();

    auto out = ctx.auth().login(*username, *password, actor_of(req));
    throw_unless_ok(out, "Invalid username or password");
    core::JsonOut o;
    o.begin_object();
    write_session(o, out.session);
    o.end_object();
    return core::Response::json(o.take());
}

core::Response auth_refresh(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto token = f.required_string("refreshToken", 1, 512);
    f.finish();

    auto out = ctx.auth().refresh(*token, actor_of(req));
    if (out.kind == services::RefreshOutcome::Kind::reused)
        throw ApiError::unauthorized("The refresh token was already used; the login has been revoked");
    if (out.kind != services::RefreshOutcome::Kind::ok) throw ApiError::unauthorized("Invalid or expired refresh token");
    core::JsonOut o;
    o.begin_object();
    write_session(o, out.session);
    o.end_object();
    return core::Response::json(o.take());
}

core::Principal authenticate(Context& ctx, const core::Request& req, bool fresh) {
    const std::string* h = req.header("authorization");
    if (!h) throw ApiError::unauthorized("Missing bearer token");
    if (h->size() < 8 || strncasecmp(h->c_str(), "Bearer ", 7) != 0)
        throw ApiError::unauthorized("The Authorization header must be 'Bearer <token>'");
    auto check = ctx.auth().check_access_token(h->substr(7), fresh);
    if (!check.ok) throw ApiError::unauthorized(check.problem);
    return core::Principal{check.username, check.role, check.jti, check.exp};
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
    ctx.auth().logout(me, refresh, jti, req.principal->token_exp);
    core::log::info("'" + me + "' signed out" + (jti.empty() ? "" : ": access token " + jti + " revoked"));
    core::Response r;
    r.status = 204;
    r.content_type = "";
    return r;
}

}  // namespace handlers
