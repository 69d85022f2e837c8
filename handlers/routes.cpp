#include "handlers/routes.h"

#include <algorithm>

#include "core/files.h"
#include "core/log.h"
#include "domain/invalid_input.h"
#include "handlers/admin_records.h"
#include "handlers/admin.h"
#include "handlers/app_bundle.h"
#include "handlers/attachments.h"
#include "handlers/auth.h"
#include "handlers/export.h"
#include "handlers/upload.h"
#include "handlers/meta.h"
#include "handlers/sync.h"
#include "handlers/users.h"
#include "services/storage_error.h"

namespace handlers {

using core::BodyMode;
using core::Role;

core::Router build_router(Context& ctx) {
    const int64_t json = ctx.cfg.integer("body_limit_json");
    const int64_t sync = ctx.cfg.integer("body_limit_sync");
    const int64_t bundle = ctx.cfg.integer("body_limit_bundle");
    const int64_t attachment = attachment_body_limit(ctx);
    auto h = [&ctx](core::Response (*fn)(Context&, core::Request&)) {
        return [&ctx, fn](core::Request& r) { return fn(ctx, r); };
    };
    const std::optional<Role> pub;
    core::Router r;
    // method, path, handler, role (none: public), body, body limit, grantable
    r.add({"GET", "/health", h(health), pub});
    r.add({"GET", "/version", h(version), pub});
    r.add({"GET", "/openapi.yaml", h(openapi), pub});
    r.add({"POST", "/auth/login", h(auth_login), pub, BodyMode::buffered, json});
    r.add({"POST", "/auth/refresh", h(auth_refresh), pub, BodyMode::buffered, json});
    r.add({"POST", "/users/create", h(users_create), Role::admin, BodyMode::buffered, json});
    r.add({"POST", "/users", h(users_create), Role::admin, BodyMode::buffered, json});
    r.add({"GET", "/users", h(users_list), Role::admin});
    r.add({"POST", "/users/reset-password", h(users_reset_password), Role::admin, BodyMode::buffered, json});
    r.add({"POST", "/users/change-password", h(users_change_password), Role::read_only, BodyMode::buffered, json});
    r.add({"DELETE", "/users/delete/{username}", h(users_delete), Role::admin});
    r.add({"DELETE", "/users/{username}", h(users_delete), Role::admin});
    r.add({"POST", "/sync/push", h(sync_push), Role::read_write, BodyMode::buffered, sync});
    r.add({"POST", "/sync/pull", h(sync_pull), Role::read_only, BodyMode::buffered, sync});
    r.add({"POST", "/app-bundle/push", h(bundle_push), Role::admin, BodyMode::streamed, bundle});
    r.add({"GET", "/app-bundle/versions", h(bundle_versions), Role::read_only});
    r.add({"POST", "/app-bundle/switch/{version}", h(bundle_switch), Role::admin});
    // Keepable (core/grant.h): nginx keeps its whole answer, 200 or 304, for grant_seconds.
    r.add({"GET", "/app-bundle/manifest", h(bundle_manifest), Role::read_only, BodyMode::none, 0, false, true});
    // Grantable (core/grant.h): nginx sends these files on a kept answer, no worker asked.
    r.add({"GET", "/app-bundle/download/{path+}", h(bundle_download), Role::read_only, BodyMode::none, 0, true});
    r.add({"GET", "/app-bundle/download-zip", h(bundle_download_zip), Role::read_only, BodyMode::none, 0, true});
    r.add({"GET", "/app-bundle/changes", h(bundle_changes), Role::read_only});
    r.add({"GET", "/dataexport/csv", h(dataexport_csv), Role::admin});
    r.add({"GET", "/dataexport/parquet", h(dataexport_parquet), Role::admin});
    // One-time download links; the download is public (the link's secret authorizes it)
    r.add({"POST", "/dataexport/links", h(dataexport_links), Role::admin, BodyMode::buffered, json});
    r.add({"GET", "/dataexport/download", h(dataexport_download), pub});
    r.add({"POST", "/attachments/manifest", h(attachment_manifest), Role::read_only, BodyMode::buffered, json});
    r.add({"PUT", "/attachments/{attachment_id}", h(attachment_put), Role::read_write, BodyMode::streamed, attachment});
    r.add({"GET", "/attachments/{attachment_id}", h(attachment_get), Role::read_only, BodyMode::none, 0, true});
    r.add({"HEAD", "/attachments/{attachment_id}", h(attachment_get), Role::read_only});
    r.add({"DELETE", "/attachments/{attachment_id}", h(attachment_delete), Role::admin});
    // Records, their history and attachment references for admins (CONTRACT §8).
    r.add({"GET", "/admin/records", h(admin_records_list), Role::admin});
    r.add({"GET", "/admin/records/{id}", h(admin_record_get), Role::admin});
    r.add({"GET", "/admin/attachments", h(admin_attachments_list), Role::admin});
    // Administration (CONTRACT §8): sessions, roles, overview, devices, audit log.
    r.add({"POST", "/auth/logout", h(auth_logout), Role::read_only, BodyMode::buffered, json});
    r.add({"POST", "/admin/users/role", h(admin_users_role), Role::admin, BodyMode::buffered, json});
    r.add({"GET", "/admin/overview", h(admin_overview), Role::admin});
    r.add({"GET", "/admin/devices", h(admin_devices), Role::admin});
    r.add({"POST", "/admin/devices/provision", h(admin_devices_provision), Role::admin, BodyMode::buffered, json});
    r.add({"GET", "/admin/audit", h(admin_audit), Role::admin});
    return r;
}

core::ServerHooks build_hooks(Context& ctx) {
    core::ServerHooks hooks;
    hooks.authenticate = [&ctx](const core::Request& r) { return authenticate(ctx, r); };
    // Grants (core/grant.h). A token answer is kept at most revocation_cache_seconds - 1
    // (nginx may use it a second longer), so a revocation on another host still shows
    // within revocation_cache_seconds; changes on this host show at once.
    hooks.token_granted = [&ctx](const core::Request& r) -> std::optional<int64_t> {
        try {
            return authenticate(ctx, r, true).token_exp;
        } catch (const core::ApiError&) {
            return std::nullopt;
        }
    };
    const int grant_s = static_cast<int>(ctx.cfg.integer("grant_seconds"));
    hooks.file_grant_seconds = grant_s;
    hooks.token_grant_seconds =
        std::max(0, std::min(grant_s, static_cast<int>(ctx.cfg.integer("revocation_cache_seconds")) - 1));
    hooks.translate = [](std::exception_ptr ep) -> core::ApiError {
        try {
            std::rethrow_exception(ep);
        } catch (const domain::InvalidInput& e) {
            std::vector<core::FieldError> fields;
            for (const auto& p : e.problems()) fields.push_back({p.field, p.message});
            return core::ApiError::validation(std::move(fields));
        } catch (const services::StorageError& e) {
            core::log::error(std::string("database error: ") + e.what());
            switch (e.kind()) {
                case services::StorageErrorKind::duplicate: return core::ApiError::conflict("The resource already exists");
                case services::StorageErrorKind::lost_connection:
                case services::StorageErrorKind::node_unavailable:
                case services::StorageErrorKind::deadlock:  // conflicts still colliding after the retries
                case services::StorageErrorKind::missing_table:
                    return core::ApiError::unavailable("The database is unavailable; try again shortly");
                case services::StorageErrorKind::lock_timeout:
                    return core::ApiError::unavailable("The database is busy; try again shortly");
                case services::StorageErrorKind::too_large: return core::ApiError::too_large("A value is too large to store");
                default: return core::ApiError::internal();
            }
        } catch (const core::StorageFull& e) {
            // 503 (a contract slug, and what clients already retry later), not 507:
            // the condition is the server's and passes once space is freed.
            core::log::error(std::string("storage full: ") + e.what());
            return core::ApiError::unavailable("The server's file storage is full; nothing was stored. "
                                               "Try again after an administrator has freed space");
        } catch (const std::exception& e) {
            core::log::error(std::string("unhandled error: ") + e.what());
            return core::ApiError::internal();
        }
    };
    return hooks;
}

}  // namespace handlers
