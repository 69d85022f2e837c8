#include "handlers/context.h"

#include <sys/mman.h>

#include <new>

#include "domain/list_cursor.h"
#include "services/settings.h"

namespace handlers {

Context::Context(core::Config c) : cfg(std::move(c)) {
    void* shared = mmap(nullptr, 2 * sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
    if (shared != MAP_FAILED) {
        bundle_generation = new (shared) std::atomic<uint64_t>(0);
        attachment_generation = new (static_cast<std::atomic<uint64_t>*>(shared) + 1) std::atomic<uint64_t>(0);
    }
}

Context::~Context() = default;

db::Database& Context::database() {
    if (!db_) db_ = std::make_unique<db::Database>(services::db_settings_from(cfg));
    return *db_;
}

services::BundleStore& Context::bundle_store() {
    if (!bundle_store_)
        bundle_store_ = std::make_unique<services::BundleStore>(database(), cfg.str("bundle_dir"),
                                                                cfg.integer("bundle_retention"), bundle_generation,
                                                                cfg.integer("bundle_cache_ms"));
    return *bundle_store_;
}

services::AttachmentStore& Context::attachment_store() {
    if (!attachment_store_)
        attachment_store_ = std::make_unique<services::AttachmentStore>(database(), cfg.str("attachment_dir"),
                                                                    attachment_generation,
                                                                    cfg.integer("attachment_cache_ms"));
    return *attachment_store_;
}

services::UserService& Context::users() {
    if (!users_) users_ = std::make_unique<services::UserService>(database(), services::password_params_from(cfg));
    return *users_;
}

services::AuthService& Context::auth() {
    if (!auth_) {
        auth_ = std::make_unique<services::AuthService>(database(), services::auth_settings_from(cfg));
        // The dummy hash is made once, before fork, so no worker's first unknown-user
        // login is slower; every worker's service gets the same one.
        if (dummy_hash_.empty()) dummy_hash_ = auth_->dummy_hash();
        else auth_->set_dummy_hash(dummy_hash_);
    }
    return *auth_;
}

services::SyncService& Context::sync() {
    if (!sync_)
        sync_ = std::make_unique<services::SyncService>(database(), cfg.integer("idempotency_ttl"), cfg.str("jwt_secret"),
                                                        cfg.integer("record_history_days"),
                                                        cfg.integer("presence_interval"),
                                                        cfg.str("device_presence") == "on");
    return *sync_;
}

services::ExportService& Context::exports() {
    if (!exports_) exports_ = std::make_unique<services::ExportService>(database());
    return *exports_;
}

services::StatusService& Context::status() {
    if (!status_) status_ = std::make_unique<services::StatusService>(database(), bundle_store());
    return *status_;
}

services::AdminService& Context::admin() {
    if (!admin_) admin_ = std::make_unique<services::AdminService>(database(), services::password_params_from(cfg));
    return *admin_;
}

services::RecordAdmin& Context::record_admin() {
    if (!record_admin_) record_admin_ = std::make_unique<services::RecordAdmin>(database());
    return *record_admin_;
}

services::AuditService& Context::audit_log() {
    if (!audit_log_)
        audit_log_ = std::make_unique<services::AuditService>(database(), cfg.integer("audit_retention_days"));
    return *audit_log_;
}

const std::string& Context::list_cursor_key() {
    if (list_cursor_key_.empty()) list_cursor_key_ = domain::derive_list_cursor_key(cfg.str("jwt_secret"));
    return list_cursor_key_;
}

void Context::drop_connections() {
    audit_log_.reset();
    record_admin_.reset();
    admin_.reset();
    status_.reset();
    exports_.reset();
    sync_.reset();
    auth_.reset();
    users_.reset();
    bundle_store_.reset();
    attachment_store_.reset();
    db_.reset();
}

}  // namespace handlers
