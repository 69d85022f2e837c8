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

// How many bytes of a pulled page are made before they are sent (sync.cpp).
constexpr size_t kPullPiece = 64 * 1024;
// The page as JSON (CONTRACT §7), handed to `sink` in pieces of about `piece` bytes
// (each cut after a record; the last one ends the document).
void render_pull_page(const services::PullPage& page, size_t piece, const core::BodySink& sink);

core::Response sync_push(Context& ctx, core::Request& req);
core::Response sync_pull(Context& ctx, core::Request& req);

}  // namespace handlers
