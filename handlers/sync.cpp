#include "handlers/sync.h"

#include <memory>

#include "core/api_error.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/json_request.h"
#include "core/log.h"
#include "core/time_util.h"
#include "domain/page_token.h"
#include "domain/sync_request.h"
#include "services/sync_service.h"

namespace handlers {

using core::ApiError;

// One pulled record in the shape the pull asked for (CONTRACT §7). Records stored
// without created_at/updated_at (pushed before observations existed, or by a
// record-shape client) show their synced_at there: the app needs a time, and that is
// the best one known. Documented in openapi.yaml.
void render_record(core::JsonOut& o, const db::StoredRecord& r, domain::RecordShape shape) {
    using domain::RecordShape;
    o.begin_object();
    for (const auto* n : {&domain::kRecordNames, &domain::kObservationNames}) {
        if (shape != RecordShape::both && (n == &domain::kRecordNames) != (shape == RecordShape::records)) continue;
        o.key(n->id).str(r.id);
        o.key(n->type).str(r.schema_type);
        o.key(n->version).str(r.schema_version);
        o.key(n->change_id).num(r.change_id);
        o.key(n->last_modified).str(r.last_modified);
    }
    o.key("data").raw(r.data);
    o.key("hash").str(r.hash);
    o.key("deleted").boolean(r.deleted);
    o.key("last_modified_by").str(r.last_modified_by);
    o.key("origin_client_id").str(r.origin_client_id);
    if (shape != RecordShape::records) {
        o.key("created_at").str(r.fields.created_at.value_or(r.last_modified));
        o.key("updated_at").str(r.fields.updated_at.value_or(r.last_modified));
        o.key("geolocation");
        if (r.fields.geolocation) o.raw(*r.fields.geolocation);
        else o.w().Null();
    }
    o.end_object();
}


core::Response sync_push(Context& ctx, core::Request& req) {
    auto doc = core::parse_json_object(req.body);
    auto push = domain::parse_push_request(doc, static_cast<size_t>(ctx.cfg.integer("sync_max_records")));
    const std::string& user = req.principal->username;
    // The same transmission_id with the same body (from the same user) is a retry.
    std::string fingerprint = core::sha256_hex(user + "\n" + req.body);

    auto out = ctx.sync().push(push, fingerprint, user, core::unix_now_ms());
    if (out.kind == services::PushReply::Kind::transmission_reused)
        throw ApiError::conflict("transmission_id " + push.transmission_id +
                                 " was already used for a push with a different body");
    auto resp = core::Response::json(std::move(out.body));
    if (out.kind == services::PushReply::Kind::replayed) resp.add_header("x-idempotent-replay", "true");
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

// Pulls with one client (issue 18, 0.7.0): the page is sent while it is rendered.
// Everything that can fail for a reason the client should hear (the request, the
// page token, the database) is done before the first byte: sync().pull() reads the
// whole page, and an error there is a problem+json as before. What is left cannot
// fail on its own (rendering records already in memory), so a piece of JSON goes
// out as soon as kPullPiece bytes of it are made, and nginx encrypts and sends the
// first records while the worker renders the rest, where it used to wait for the
// whole page (about 600 KiB for 500 records). The bytes are the same as a held
// answer's; only the framing differs (no Content-Length: chunked over HTTP/1.1, as
// for the export). If a piece cannot be written (nginx or the client gone), or
// anything throws after the headers (bad_alloc), the response is a streamed one and
// core/fcgi_server.cpp aborts it: the client sees a cut-off body, never a complete-
// looking page (tests/unit/test_streamed_response.cpp, test_sync_stream.cpp).
// A piece of 64 KiB is one FastCGI record of the direct path (put_stdout) and fills
// one of the 64 KiB buffers nginx keeps for /sync/.
void render_pull_page(const services::PullPage& page, size_t piece, const core::BodySink& sink) {
    core::JsonOut o(piece + 16 * 1024);
    o.begin_object();
    o.key("server_time").str(core::rfc3339_ms(core::unix_now_ms()));
    // The snapshot's counter: the cursor to store after the last page (CONTRACT §7).
    o.key("current_version").num(page.snapshot_cutoff);
    o.key("records").begin_array();
    for (const auto& r : page.records) {
        render_record(o, r, page.shape);
        if (o.pending().size() >= piece) {
            sink(o.pending());
            o.drop();
        }
    }
    o.end_array();
    o.key("change_cutoff").num(page.change_cutoff);
    o.key("has_more").boolean(page.has_more);
    if (page.has_more) o.key("next_page_token").str(page.next_page_token);
    o.key("sync_format_version").str("1.0");
    o.end_object();
    sink(o.pending());
}

core::Response sync_pull(Context& ctx, core::Request& req) {
    auto doc = core::parse_json_object(req.body);
    auto pull = domain::parse_pull_request(doc);
    const auto first = domain::first_page_cursor(pull, req.query_param("limit"), req.query_param("schemaType"));
    auto page = std::make_shared<const services::PullPage>(
        ctx.sync().pull(first, req.query_param("page_token"), pull.client_id, req.principal->username));
    core::Response resp;
    resp.body_writer = [page](const core::BodySink& sink) { render_pull_page(*page, kPullPiece, sink); };
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

}  // namespace handlers
