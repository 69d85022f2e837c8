#pragma once
#include "core/fcgi_server.h"
#include "core/router.h"
#include "handlers/context.h"

namespace handlers {

// The one route table of the API.
core::Router build_router(Context& ctx);
// Authentication and error translation hooks for the server loop.
core::ServerHooks build_hooks(Context& ctx);

}  // namespace handlers
