#include "handlers/attachments.h"

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "domain/content_type.h"
#include "domain/path_rules.h"
#include "handlers/auth.h"
#include "handlers/file_reply.h"
#include "handlers/upload.h"
#include "services/attachment_store.h"

namespace handlers {

using core::ApiError;

namespace {

const std::string& attachment_id(const core::Request& req) {
    const std::string& id = req.params.at("attachment_id");
    if (!domain::valid_attachment_id(id))
        throw ApiError::validation({{"attachment_id", domain::kAttachmentIdRule}}, "The attachment id is not valid");
    return id;
}

core::Response success() {
    core::JsonOut o;
    o.begin_object().key("status").str("success").end_object();
    auto r = core::Response::json(o.take());
    r.add_header("Cache-Control", "no-store");
    return r;
}

}  // namespace

std::optional<std::string> download_base(const std::string& public_base_url, const std::string* host) {
    if (!public_base_url.empty()) {
        std::string base = public_base_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        return base;
    }
    if (!host || host->empty() || host->size() > 255) return std::nullopt;
    for (unsigned char c : *host)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']'))
            return std::nullopt;
    return "https://" + *host;
}

int64_t attachment_max_bytes(const Context& ctx) { return ctx.cfg.integer("attachment_max_bytes"); }

int64_t attachment_body_limit(const Context& ctx) { return attachment_max_bytes(ctx) + kUploadOverheadBytes; }

core::Response attachment_put(Context& ctx, core::Request& req) {
    const std::string& id = attachment_id(req);
    const int64_t max = attachment_max_bytes(ctx);
    auto& store = ctx.attachment_store();
    auto upload = store.begin_upload();
    UploadedPart part = receive_upload(
        req, {"file", "the file", "a file", true}, attachment_body_limit(ctx), [&](const char* data, size_t n) {
            if (upload->size() + n > static_cast<uint64_t>(max))
                throw ApiError::too_large("The attachment exceeds the limit of " + std::to_string(max) + " bytes");
            upload->write(data, n);
        });
    const std::string content_type = domain::attachment_content_type(part.content_type, id);
    switch (store.put(id, std::move(upload), content_type, req.principal->username)) {
        case services::AttachmentStore::PutResult::conflict:
            throw ApiError::conflict("Attachment '" + id + "' already exists with different content");
        case services::AttachmentStore::PutResult::stored:
        case services::AttachmentStore::PutResult::unchanged: break;
    }
    return success();
}

// 304 when If-None-Match matches; otherwise the 200 that nginx completes from
// disk (X-Accel-Redirect), for GET and HEAD alike.
core::Response attachment_get(Context& ctx, core::Request& req) {
    const std::string& id = attachment_id(req);
    // A grant is kept by nginx for grant_seconds: it is made from the row as it is now.
    auto row = ctx.attachment_store().find(id, req.answer_kept());
    if (!row) throw ApiError::not_found("No attachment '" + id + "'");
    return file_reply(req, ctx.cfg.str("attachment_accel_prefix"),
                      services::AttachmentStore::relative_path(row->sha256), row->content_type, row->sha256, false,
                      true);
}

core::Response attachment_delete(Context& ctx, core::Request& req) {
    const std::string& id = attachment_id(req);
    if (!ctx.attachment_store().remove(id, actor_of(req)))
        throw ApiError::not_found("No attachment '" + id + "'");
    return success();
}

core::Response attachment_manifest(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    f.required_string("client_id", 1, 255);
    int64_t since = 0;
    auto it = body.FindMember("since_version");
    if (it == body.MemberEnd()) f.add_error("since_version", "since_version is required");
    else if (!it->value.IsInt64() || it->value.GetInt64() < 0)
        f.add_error("since_version", "since_version must be an integer >= 0");
    else since = it->value.GetInt64();
    f.finish();
    auto base = download_base(ctx.cfg.str("public_base_url"), req.host.empty() ? req.header("host") : &req.host);
    if (!base) throw ApiError::bad_request("The Host header is missing or not a host name");

    auto changes = ctx.attachment_store().changes_since(since);
    int64_t downloads = 0, deletes = 0, total_size = 0;
    core::JsonOut o;
    o.begin_object();
    o.key("current_version").num(changes.current_version);
    o.key("operations").begin_array();
    for (const auto& row : changes.rows) {
        o.begin_object();
        if (row.deleted) {
            ++deletes;
            o.key("operation").str("delete");
            o.key("attachment_id").str(row.attachment_id);
        } else {
            ++downloads;
            total_size += row.size;
            o.key("operation").str("download");
            o.key("attachment_id").str(row.attachment_id);
            o.key("download_url").str(*base + "/attachments/" + row.attachment_id);
            o.key("size").num(row.size);
            o.key("content_type").str(row.content_type);
        }
        o.key("version").num(row.version);
        o.end_object();
    }
    o.end_array();
    o.key("total_download_size").num(total_size);
    o.key("operation_count").begin_object().key("download").num(downloads).key("delete").num(deletes).end_object();
    o.end_object();
    auto r = core::Response::json(o.take());
    r.add_header("Cache-Control", "no-store");
    return r;
}

}  // namespace handlers
