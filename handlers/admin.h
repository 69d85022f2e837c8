// The admin API of CONTRACT §8 that is not records or attachments: the overview,
// roles, devices, provisioning and the audit log.
#pragma once
#include "core/http.h"
#include "core/json.h"
#include "handlers/context.h"

namespace handlers {

core::Response admin_overview(Context& ctx, core::Request& req);
core::Response admin_users_role(Context& ctx, core::Request& req);
core::Response admin_devices(Context& ctx, core::Request& req);
core::Response admin_devices_provision(Context& ctx, core::Request& req);
core::Response admin_audit(Context& ctx, core::Request& req);

// The server's version and build facts, as in GET /version (handlers/meta.cpp).
void write_server_facts(core::JsonOut& o);

}  // namespace handlers
