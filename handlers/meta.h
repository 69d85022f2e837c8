// What the server says about itself, publicly: /health, /version, /openapi.yaml.
#pragma once
#include <string_view>

#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response health(Context& ctx, core::Request& req);
core::Response version(Context& ctx, core::Request& req);
core::Response openapi(Context& ctx, core::Request& req);
// The project's OpenAPI document, compiled into the binary.
std::string_view openapi_document();

}  // namespace handlers
