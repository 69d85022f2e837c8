#include "handlers/export.h"

#include <memory>

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "core/time_util.h"
#include "handlers/attachments.h"
#include "handlers/auth.h"
#include "services/export_service.h"

namespace handlers {

namespace {

core::Response zip_headers(const std::string& file_name) {
    core::Response r;
    r.content_type = "application/zip";
    r.add_header("Content-Disposition", "attachment; filename=\"" + file_name + "\"");
    r.add_header("Cache-Control", "no-store");
    // Honoured by nginx even where the site's location does not switch buffering off.
    r.add_header("X-Accel-Buffering", "no");
    return r;
}

core::Response stream(std::shared_ptr<services::DataExport> exp) {
    core::Response r = zip_headers(exp->file_name());
    // Shared with the body writer, which runs after this returns; the snapshot is
    // abandoned when the response is dropped without being written (HEAD).
    r.body_writer = [exp](const core::BodySink& sink) { exp->write_zip(sink); };
    return r;
}

core::Response export_as(Context& ctx, core::Request& req, domain::ExportFormat format) {
    domain::ExportFilterInput in{req.query_params("form_type"), req.query_param("changed_after"),
                                 req.query_param("changed_before"), req.query_param("deleted")};
    auto filter = domain::parse_export_filter(in);
    return stream(ctx.exports().begin(format, std::move(filter), actor_of(req)));
}

}  // namespace

core::Response dataexport_csv(Context& ctx, core::Request& req) {
    return export_as(ctx, req, domain::ExportFormat::csv);
}

core::Response dataexport_parquet(Context& ctx, core::Request& req) {
    return export_as(ctx, req, domain::ExportFormat::parquet);
}

core::Response dataexport_links(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    auto link_req = domain::parse_link_request(body);
    auto base = download_base(ctx.cfg.str("public_base_url"), req.host.empty() ? req.header("host") : &req.host);
    if (!base) throw core::ApiError::bad_request("The request's Host header cannot make a link; set public_base_url");
    auto link = ctx.exports().create_link(link_req, actor_of(req));
    core::JsonOut o;
    o.begin_object()
        .key("url").str(*base + "/dataexport/download?key=" + link.token)
        .key("expires_at").str(core::rfc3339(link.expires_at))
        .end_object();
    core::Response r = core::Response::json(o.take(), 201);
    r.add_header("Cache-Control", "no-store");
    return r;
}

// The secret is the query parameter `key`: the worker's log names only the path,
// and nginx logs this location with a format that leaves the query out
// (nginx/synkronus-http.conf, synkronus_redacted).
core::Response dataexport_download(Context& ctx, core::Request& req) {
    auto key = req.query_param("key");
    const char* gone = "This download link is unknown, already used or expired; make a new one";
    auto& service = ctx.exports();
    if (req.method == "HEAD") {  // answered without using the link
        auto format = key ? service.peek_link(*key) : std::nullopt;
        if (!format) throw core::ApiError::not_found(gone);
        return zip_headers(services::DataExport::export_file_name(*format, core::unix_now_ms()));
    }
    std::shared_ptr<services::DataExport> exp;
    if (key) exp = service.begin_from_link(*key);
    if (!exp) throw core::ApiError::not_found(gone);
    return stream(std::move(exp));
}

}  // namespace handlers
