#include "handlers/admin_records.h"

#include "core/api_error.h"
#include "core/json.h"
#include "core/time_util.h"
#include "core/utf8.h"
#include "domain/list_cursor.h"
#include "handlers/sync.h"
#include "services/record_admin.h"

namespace handlers {

using core::ApiError;

namespace {

// A text filter: 1 to `max_chars` characters of valid UTF-8 (the column's bound).
std::optional<std::string> text_filter(const core::Request& req, const char* name, size_t max_chars) {
    auto v = req.query_param(name);
    if (!v) return std::nullopt;
    const auto n = core::utf8_length(*v);
    if (!n || *n < 1 || *n > max_chars)
        throw ApiError::validation({{name, std::string(name) + " must be 1 to " + std::to_string(max_chars) +
                                               " characters of valid UTF-8"}});
    return v;
}

std::optional<bool> bool_filter(const core::Request& req, const char* name) {
    auto v = req.query_param(name);
    if (!v) return std::nullopt;
    if (*v == "true") return true;
    if (*v == "false") return false;
    throw ApiError::validation({{name, std::string(name) + " must be true or false"}});
}

std::optional<int64_t> time_filter(const core::Request& req, const char* name) {
    auto v = req.query_param(name);
    if (!v) return std::nullopt;
    std::optional<int64_t> ms;
    if (core::valid_rfc3339(*v)) ms = core::parse_rfc3339_ms(*v);
    if (!ms) throw ApiError::validation({{name, std::string(name) + " must be an RFC 3339 time, e.g. 2026-11-28T21:09:34Z"}});
    return ms;
}

void opt_str(core::JsonOut& o, const char* key, const std::optional<std::string>& v) {
    o.key(key);
    if (v) o.str(*v);
    else o.w().Null();
}

}  // namespace

core::Response admin_records_list(Context& ctx, core::Request& req) {
    services::RecordQuery q;
    q.form_type = text_filter(req, "form_type", 255);
    q.client_id = text_filter(req, "client_id", 128);
    q.username = text_filter(req, "username", 64);
    q.deleted = bool_filter(req, "deleted");
    q.changed_after_ms = time_filter(req, "changed_after");
    q.changed_before_ms = time_filter(req, "changed_before");
    // The cursor is bound to the filters as given: another filter set refuses it.
    domain::ListScope scope("/admin/records");
    for (const char* f : {"form_type", "client_id", "username", "deleted", "changed_after", "changed_before"})
        scope.filter(f, req.query_param(f));
    const auto page = domain::parse_list_page(req.query_param("limit"), req.query_param("cursor"), scope,
                                              ctx.list_cursor_key(), services::kRecordPositionParts);

    const auto result = ctx.record_admin().records(q, page);
    core::JsonOut o;
    o.begin_object();
    o.key("records").begin_array();
    for (const auto& r : result.records) render_record(o, r, domain::RecordShape::both);
    o.end_array();
    if (result.next) o.key("next_cursor").str(domain::encode_list_cursor(*result.next, scope, ctx.list_cursor_key()));
    o.end_object();
    auto resp = core::Response::json(o.take());
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

core::Response admin_record_get(Context& ctx, core::Request& req) {
    const std::string& id = req.params.at("id");
    const auto detail = ctx.record_admin().record(id);
    if (!detail) throw ApiError::not_found("No record with this id");
    core::JsonOut o;
    o.begin_object();
    o.key("record");
    render_record(o, detail->record, domain::RecordShape::both);
    o.key("history").begin_array();
    for (const auto& h : detail->history) {
        o.begin_object();
        o.key("change_id").num(h.change_id);
        o.key("hash").str(h.hash);
        o.key("deleted").boolean(h.deleted);
        o.key("data").raw(h.data);
        opt_str(o, "created_at", h.created_at);
        opt_str(o, "updated_at", h.updated_at);
        o.key("geolocation");
        if (h.geolocation) o.raw(*h.geolocation);
        else o.w().Null();
        o.key("modified_by").str(h.modified_by);
        o.key("client_id").str(h.client_id);
        o.key("synced_at").str(h.synced_at);
        o.key("replaced_by").str(h.replaced_by);
        o.end_object();
    }
    o.end_array();
    o.key("attachments").begin_array();
    for (const auto& a : detail->attachments)
        o.begin_object().key("attachment_id").str(a.attachment_id).key("present").boolean(a.present).end_object();
    o.end_array();
    o.end_object();
    auto resp = core::Response::json(o.take());
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

core::Response admin_attachments_list(Context& ctx, core::Request& req) {
    const bool unreferenced = bool_filter(req, "unreferenced").value_or(false);
    domain::ListScope scope("/admin/attachments");
    scope.filter("unreferenced", unreferenced ? std::optional<std::string>("true") : std::nullopt);
    const auto page = domain::parse_list_page(req.query_param("limit"), req.query_param("cursor"), scope,
                                              ctx.list_cursor_key(), services::kAttachmentPositionParts);

    const auto result = ctx.record_admin().attachments(unreferenced, page);
    core::JsonOut o;
    o.begin_object();
    o.key("attachments").begin_array();
    for (const auto& a : result.attachments) {
        o.begin_object();
        o.key("attachment_id").str(a.row.attachment_id);
        o.key("size").num(a.row.size);
        o.key("content_type").str(a.row.content_type);
        o.key("sha256").str(a.row.sha256);
        o.key("uploaded_by").str(a.row.uploaded_by);
        o.key("uploaded_at").str(a.row.uploaded_at);
        o.key("referenced_by").begin_array();
        for (const auto& id : a.referenced_by) o.str(id);
        o.end_array();
        o.key("references").num(a.row.references);
        o.end_object();
    }
    o.end_array();
    if (result.next) o.key("next_cursor").str(domain::encode_list_cursor(*result.next, scope, ctx.list_cursor_key()));
    o.end_object();
    auto resp = core::Response::json(o.take());
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

}  // namespace handlers
