// POST /sync/push and POST /sync/pull.
#pragma once
#include "core/http.h"
#include "handlers/context.h"

#include "core/json.h"
#include "services/sync_service.h"
#include "domain/sync_request.h"

namespace handlers {

// One record in `shape` (both: every field of both generations, as in a first pull
// and in the admin lists).
void render_record(core::JsonOut& o, const db::StoredRecord& r, domain::RecordShape shape);

core::Response sync_push(Context& ctx, core::Request& req);
core::Response sync_pull(Context& ctx, core::Request& req);

}  // namespace handlers
