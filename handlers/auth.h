// POST /auth/login, POST /auth/refresh, and bearer-token verification.
#pragma once
#include <functional>

#include "core/http.h"
#include "core/json.h"
#include "handlers/context.h"
#include "services/audit.h"

namespace handlers {

core::Response auth_login(Context& ctx, core::Request& req);
core::Response auth_refresh(Context& ctx, core::Request& req);
// POST /auth/logout: ends the refresh chain given and the calling access token (its jti).
core::Response auth_logout(Context& ctx, core::Request& req);
// The audit log's actor of a request: the signed-in user (or `name` when given, for
// a login attempt), the client address and the request id.
services::Actor actor_of(const core::Request& req, const std::string& name = "");
// Writes {token, refreshToken, expiresAt} of a new login session (a new refresh
// token family) into the open object `o`.
void write_new_session(Context& ctx, core::JsonOut& o, const std::string& username, const std::string& role,
                       int64_t token_version);
// Runs `verify` (true: the password is right) under the failed-password limits
// shared by logins and change-password: 429 with Retry-After while the username or
// the client address is blocked, 401 with `wrong_message` when `verify` fails.
void check_password_guess(Context& ctx, const core::Request& req, const std::string& username,
                          const char* wrong_message, const std::function<bool()>& verify);
// The authenticate hook of the server: verifies the JWT and that the user still
// exists with the token's version (cached per worker for revocation_cache_seconds).
core::Principal authenticate(Context& ctx, const core::Request& req);
// Forgets cached token versions of `username` in this worker (after it changed them).
void forget_auth_cache(Context& ctx, const std::string& username);

}  // namespace handlers
