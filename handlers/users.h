// User administration (admin) and change-password (any role).
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response users_create(Context& ctx, core::Request& req);
core::Response users_list(Context& ctx, core::Request& req);
core::Response users_delete(Context& ctx, core::Request& req);
core::Response users_reset_password(Context& ctx, core::Request& req);
core::Response users_change_password(Context& ctx, core::Request& req);

}  // namespace handlers
