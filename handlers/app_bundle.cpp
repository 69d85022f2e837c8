#include "handlers/app_bundle.h"

#include <memory>

#include "core/api_error.h"
#include "core/crypto.h"
#include "core/etag.h"
#include "core/json.h"
#include "core/log.h"
#include "domain/bundle_diff.h"
#include "domain/path_rules.h"
#include "handlers/auth.h"
#include "handlers/upload.h"
#include "services/bundle_store.h"

namespace handlers {

using core::ApiError;
using services::BundleStore;
using services::BundleVersionInfo;
using services::bundle_version_name;
using services::parse_bundle_version;

namespace {

std::string accel_prefix(const Context& ctx) {
    std::string p = ctx.cfg.str("bundle_accel_prefix");
    if (p.empty() || p.back() != '/') p += '/';
    return p;
}

bool preview_requested(const core::Request& req) {
    auto v = req.query_param("preview");
    return v && (*v == "true" || *v == "1");
}

// The database names a version whose files are not in the store (as after a purge
// and reinstall that kept the database): a clear 503 instead of a manifest whose
// files 404. Not the client's doing, and not over until an administrator acts.
[[noreturn]] void files_missing(const BundleVersionInfo& info) {
    core::log::error("app bundle version " + info.name +
                     " is in the database but not (completely) in bundle_dir; run 'synkronus-admin check'");
    throw ApiError::unavailable("The files of app bundle version " + info.name +
                                " are missing from the bundle store; an administrator must run "
                                "'synkronus-admin check --repair'");
}

// The version a download reads: the active one, or the newest with ?preview=true.
std::shared_ptr<const BundleVersionInfo> serving_version(Context& ctx, bool preview) {
    BundleStore& s = ctx.bundle_store();
    db::BundleHeads h = s.heads();
    std::optional<int64_t> v = preview ? h.newest : h.active;
    if (!v) throw ApiError::not_found(preview ? "No app bundle version is stored" : "No app bundle version is active");
    auto info = s.version_info(*v, preview ? h.newest_manifest_hash : h.active_manifest_hash);
    // Retired between the two reads: as if it had never been there.
    if (!info) throw ApiError::not_found("No app bundle version is active");
    if (!s.on_disk(*info)) files_missing(*info);
    return info;
}

// 304 when If-None-Match matches; otherwise the 200 that nginx completes from
// disk (X-Accel-Redirect). nginx's own conditional check knows only its
// mtime-size ETag, so the worker answers the conditional request itself.
core::Response file_response(const Context& ctx, const core::Request& req, const std::string& accel_path,
                             const std::string& content_type, const std::string& sha256, bool preview) {
    if (auto r = core::not_modified(req, sha256)) {
        if (preview) r->add_header("x-is-preview", "true");
        return *r;
    }
    core::Response r;
    r.status = 200;
    r.content_type = content_type;
    r.add_header("X-Accel-Redirect", accel_prefix(ctx) + accel_path);
    // Copied into ETag / x-is-preview by the internal location (headers of an
    // X-Accel-Redirect answer are otherwise dropped).
    r.add_header("X-Synkronus-Etag", core::strong_etag(sha256));
    if (preview) r.add_header("X-Synkronus-Preview", "true");
    return r;
}

int64_t version_param(const std::string& text, const char* field) {
    int64_t v = 0;
    if (!parse_bundle_version(text, v))
        throw ApiError::validation({{field, std::string(field) + " must be a version number (digits only)"}});
    return v;
}

std::string empty_manifest_json() {
    // No active version: no files, and a hash by the same rule (over nothing and
    // the empty version name). generatedAt is the epoch, a valid time that never
    // changes, so the body matches its ETag.
    core::JsonOut o;
    o.begin_object();
    o.key("files").begin_array().end_array();
    o.key("version").str("");
    o.key("generatedAt").str("1970-01-01T00:00:00Z");
    o.key("hash").str(core::sha256_hex(""));
    o.end_object();
    return o.take();
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
    if (ctx.bundle_store().activate(v, actor_of(req)) == db::SwitchResult::not_found)
        throw ApiError::not_found("No app bundle version " + (v < 1000000000 ? name : std::string("that large")));
    core::log::info("app bundle version " + name + " activated by '" + req.principal->username + "'");
    return core::Response::json(core::message_json("Switched to app bundle version " + name));
}

core::Response bundle_manifest(Context& ctx, core::Request& req) {
    BundleStore& s = ctx.bundle_store();
    db::BundleHeads h = s.heads();
    std::string body, hash;
    if (h.active) {
        hash = h.active_manifest_hash;
    } else {
        body = empty_manifest_json();
        hash = core::sha256_hex("");
    }
    // Read before the 304: a client told its manifest is current would fetch files
    // that are not there.
    std::shared_ptr<const BundleVersionInfo> info;
    if (h.active) {
        info = s.version_info(*h.active, h.active_manifest_hash);
        if (!info) throw ApiError::unavailable("The active app bundle version changed; try again");
        if (!s.on_disk(*info)) files_missing(*info);
    }
    if (auto r = core::not_modified(req, hash)) return *r;
    if (info) body = info->manifest_json;
    auto r = core::Response::json(std::move(body));
    r.add_header("ETag", core::strong_etag(hash));
    r.add_header("Cache-Control", "no-cache");
    return r;
}

core::Response bundle_download(Context& ctx, core::Request& req) {
    const std::string& path = req.params.at("path");
    if (!domain::valid_bundle_file_path(path))
        throw ApiError::validation({{"path", "path must be a relative file path without empty, '.' or '..' segments"}},
                                   "The file path is not valid");
    const bool preview = preview_requested(req);
    auto info = serving_version(ctx, preview);
    auto it = info->files.find(path);
    if (it == info->files.end()) throw ApiError::not_found("No such file in app bundle version " + info->name);
    if (!ctx.bundle_store().on_disk(*info, path)) files_missing(*info);
    return file_response(ctx, req, info->name + "/" + domain::accel_encode_path(path), it->second.mime_type,
                         it->second.sha256, preview);
}

core::Response bundle_download_zip(Context& ctx, core::Request& req) {
    const bool preview = preview_requested(req);
    auto info = serving_version(ctx, preview);
    return file_response(ctx, req, info->name + ".zip", "application/zip", info->zip_sha256, preview);
}

core::Response bundle_changes(Context& ctx, core::Request& req) {
    BundleStore& s = ctx.bundle_store();
    auto given = [&](const char* name) -> std::optional<int64_t> {
        auto v = req.query_param(name);
        if (!v || v->empty()) return std::nullopt;
        return version_param(*v, name);
    };
    std::optional<int64_t> current = given("current"), target = given("target");
    if (!current) {
        current = s.heads().active;
        if (!current) throw ApiError::not_found("No app bundle version is active, and no current version was given");
    }
    auto a = s.version_info(*current);
    if (!a) throw ApiError::not_found("No app bundle version " + bundle_version_name(*current));
    if (!target) {
        target = s.previous(*current);
        if (!target) throw ApiError::not_found("App bundle version " + a->name + " has no earlier version to compare with");
    }
    auto b = s.version_info(*target);
    if (!b) throw ApiError::not_found("No app bundle version " + bundle_version_name(*target));
    auto changes = domain::diff_bundles(a->name, *s.forms(a->version), b->name, *s.forms(b->version));
    auto resp = core::Response::json(domain::changes_json(changes));
    resp.add_header("Cache-Control", "no-store");
    return resp;
}

}  // namespace handlers
