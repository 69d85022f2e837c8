// POST /sync/push and POST /sync/pull.
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response sync_push(Context& ctx, core::Request& req);
core::Response sync_pull(Context& ctx, core::Request& req);

}  // namespace handlers
