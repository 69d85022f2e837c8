// GET /admin/records, GET /admin/records/{id}, GET /admin/attachments (CONTRACT §8).
#pragma once
#include "core/http.h"
#include "handlers/context.h"

namespace handlers {

core::Response admin_records_list(Context& ctx, core::Request& req);
core::Response admin_record_get(Context& ctx, core::Request& req);
core::Response admin_attachments_list(Context& ctx, core::Request& req);

}  // namespace handlers
