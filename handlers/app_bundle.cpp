#include "handlers/app_bundle.h"

#include <memory>

#include "core/api_error.h"
#include "core/etag.h"
#include "core/json.h"
#include "core/log.h"
#include "domain/bundle_diff.h"
#include "domain/path_rules.h"
#include "handlers/auth.h"
#include "handlers/file_reply.h"
#include "handlers/upload.h"
#include "services/bundle_store.h"

namespace handlers {

using core::ApiError;
using services::bundle_version_name;
using services::parse_bundle_version;

namespace {

bool preview_requested(const core::Request& req) {
    auto v = req.query_param("preview");
    return v && (*v == "true" || *v == "1");
}

// The store's own words, as the contract's statuses.
template <class Fn>
auto answer(Fn&& fn) {
    try {
        return fn();
    } catch (const services::BundleUnavailable& e) {
        if (e.kind() == services::BundleUnavailable::Kind::not_found) throw ApiError::not_found(e.what());
        throw ApiError::unavailable(e.what());
    }
}

core::Response send(Context& ctx, const core::Request& req, const services::BundleServedFile& f, bool preview) {
    return file_reply(req, ctx.cfg.str("bundle_accel_prefix"), f.relative_path, f.content_type, f.sha256, preview);
}

int64_t version_param(const std::string& text, const char* field) {
    int64_t v = 0;
    if (!parse_bundle_version(text, v))
        throw ApiError::validation({{field, std::string(field) + " must be a version number (digits only)"}});
    return v;
}

}  // namespace

core::Response bundle_push(Context& ctx, core::Request& req) {
    auto upload = ctx.bundle_store().begin_upload();
    receive_upload(req, {"bundle", "the ZIP", "a ZIP file"}, ctx.cfg.integer("body_limit_bundle"),
                   [&](const char* data, size_t n) { upload->write(data, n); });

    services::BundlePushResult out;
    try {
        out = ctx.bundle_store().push(std::move(upload), actor_of(req));
    } catch (const domain::BundleError& e) {
        throw ApiError::validation({{"bundle", e.what()}}, e.what());
    }
    if (!out.changed_core_fields.empty()) {
        std::string list;
        std::vector<core::FieldError> errors;
        for (const auto& f : out.changed_core_fields) {
            list += (list.empty() ? "" : ", ") + f;
            errors.push_back({f, "this core field of the active version would change"});
        }
        throw ApiError(409, "conflict", "The bundle changes core fields of the active version: " + list,
                       std::move(errors));
    }
    core::JsonOut o;
    o.begin_object();
    o.key("message").str("App bundle successfully pushed");
    o.key("manifest").raw(out.manifest_json);
    o.end_object();
    auto resp = core::Response::json(o.take());
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

core::Response bundle_versions(Context& ctx, core::Request&) {
    core::JsonOut o;
    o.begin_object().key("versions").begin_array();
    for (const auto& e : ctx.bundle_store().list()) o.str(bundle_version_name(e.version) + (e.active ? " *" : ""));
    o.end_array().end_object();
    auto resp = core::Response::json(o.take());
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

core::Response bundle_switch(Context& ctx, core::Request& req) {
    const int64_t v = version_param(req.params.at("version"), "version");
    const std::string name = bundle_version_name(v);
    if (ctx.bundle_store().activate(v, actor_of(req)) == services::SwitchResult::not_found)
        throw ApiError::not_found("No app bundle version " + (v < 1000000000 ? name : std::string("that large")));
    core::log::info("app bundle version " + name + " activated by '" + req.principal->username + "'");
    return core::Response::json(core::message_json("Switched to app bundle version " + name));
}

core::Response bundle_manifest(Context& ctx, core::Request& req) {
    const auto m = answer([&] { return ctx.bundle_store().active_manifest(req.answer_kept()); });
    if (auto r = core::not_modified(req, m.hash)) return *r;
    auto r = core::Response::json(m.json);
    r.add_header("ETag", core::strong_etag(m.hash));
    r.add_header("Cache-Control", "no-cache");
    return r;
}

core::Response bundle_download(Context& ctx, core::Request& req) {
    const std::string& path = req.params.at("path");
    if (!domain::valid_bundle_file_path(path))
        throw ApiError::validation({{"path", "path must be a relative file path without empty, '.' or '..' segments"}},
                                   "The file path is not valid");
    const bool preview = preview_requested(req);
    return send(ctx, req, answer([&] { return ctx.bundle_store().served_file(path, preview, req.answer_kept()); }),
                preview);
}

core::Response bundle_download_zip(Context& ctx, core::Request& req) {
    const bool preview = preview_requested(req);
    return send(ctx, req, answer([&] { return ctx.bundle_store().served_zip(preview, req.answer_kept()); }), preview);
}

core::Response bundle_changes(Context& ctx, core::Request& req) {
    auto given = [&](const char* name) -> std::optional<int64_t> {
        auto v = req.query_param(name);
        if (!v || v->empty()) return std::nullopt;
        return version_param(*v, name);
    };
    const std::optional<int64_t> current = given("current"), target = given("target");
    auto changes = answer([&] { return ctx.bundle_store().changes(current, target); });
    auto resp = core::Response::json(domain::changes_json(changes));
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

}  // namespace handlers
