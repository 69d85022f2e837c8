// GET /dataexport/csv and GET /dataexport/parquet (admin).
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response dataexport_csv(Context& ctx, core::Request& req);
core::Response dataexport_parquet(Context& ctx, core::Request& req);

}  // namespace handlers
