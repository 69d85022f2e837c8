// GET /dataexport/csv, GET /dataexport/parquet, POST /dataexport/links (admin) and
// GET /dataexport/download (public: the link's secret is the authorization).
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response dataexport_csv(Context& ctx, core::Request& req);
core::Response dataexport_parquet(Context& ctx, core::Request& req);
core::Response dataexport_links(Context& ctx, core::Request& req);
core::Response dataexport_download(Context& ctx, core::Request& req);

}  // namespace handlers
