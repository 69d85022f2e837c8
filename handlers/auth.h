// POST /auth/login, POST /auth/refresh, and bearer-token verification.
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response auth_login(Context& ctx, core::Request& req);
core::Response auth_refresh(Context& ctx, core::Request& req);
// The authenticate hook of the server: verifies the JWT and that the user still
// exists with the token's version (cached per worker for revocation_cache_seconds).
core::Principal authenticate(Context& ctx, const core::Request& req);
// Forgets cached token versions of `username` in this worker (after it changed them).
void forget_auth_cache(Context& ctx, const std::string& username);

}  // namespace handlers
