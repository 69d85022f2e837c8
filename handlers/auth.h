// POST /auth/login, /auth/refresh, /auth/logout, and bearer-token verification.
#pragma once
#include "core/http.h"
#include "core/json.h"
#include "handlers/context.h"
#include "services/auth_service.h"

namespace handlers {

core::Response auth_login(Context& ctx, core::Request& req);
core::Response auth_refresh(Context& ctx, core::Request& req);
// POST /auth/logout: ends the refresh chain given and the calling access token (its jti).
core::Response auth_logout(Context& ctx, core::Request& req);
// The audit log's actor of a request: the signed-in user (or `name` when given, for
// a login attempt), the client address and the request id.
services::Actor actor_of(const core::Request& req, const std::string& name = "");
// Writes {token, refreshToken, expiresAt} into the open object `o`.
void write_session(core::JsonOut& o, const services::Session& s);
// 401 with `wrong_message` for a wrong password, 429 with Retry-After while the
// failed-password budget of the username or the client address is spent.
void throw_unless_ok(const services::GuessOutcome& out, const char* wrong_message);
// The authenticate hook of the server: verifies the JWT and that the user still
// exists with the token's version (services::AuthService::check_access_token).
// `fresh`: the user read from the database whatever the worker's cache holds.
core::Principal authenticate(Context& ctx, const core::Request& req, bool fresh = false);

}  // namespace handlers
