// What the handlers of one worker process share: settings, the database and the
// services built on it. Every service a handler calls is reached here, made on
// first use after fork and kept for the worker's life (none is built per request).
// Nothing here outlives a request except caches that other hosts' writes can only
// make stale for a bounded time (the revocation cache), so workers stay stateless.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/config.h"
#include "services/admin_service.h"
#include "services/attachment_store.h"
#include "services/audit.h"
#include "services/auth_service.h"
#include "services/bundle_store.h"
#include "services/export_service.h"
#include "services/record_admin.h"
#include "services/status_service.h"
#include "services/sync_service.h"
#include "services/user_service.h"

namespace db {
class Database;
}

namespace handlers {

struct Context {
    explicit Context(core::Config c);
    ~Context();

    core::Config cfg;

    // The app bundle store of this worker (it holds the worker's cache of parsed
    // manifests).
    services::BundleStore& bundle_store();
    services::AttachmentStore& attachment_store();
    services::UserService& users();
    // Holds this worker's revocation cache.
    services::AuthService& auth();
    services::SyncService& sync();
    services::ExportService& exports();
    services::StatusService& status();
    services::AdminService& admin();
    services::RecordAdmin& record_admin();
    services::AuditService& audit_log();
    // The key of the admin lists' cursors (domain/list_cursor.h), derived from the
    // JWT secret once per worker.
    const std::string& list_cursor_key();
    // Drops the connection and everything built on it (never share them across fork).
    void drop_connections();

    // Raised by any worker of this host that pushes or switches an app bundle version;
    // shared memory made before fork (see BundleStore::heads).
    std::atomic<uint64_t>* bundle_generation = nullptr;
    // Raised by any worker of this host that deletes an attachment (AttachmentStore's
    // metadata cache); shared memory made before fork.
    std::atomic<uint64_t>* attachment_generation = nullptr;

private:
    db::Database& database();

    // Per worker process; opened after fork.
    std::unique_ptr<db::Database> db_;
    std::unique_ptr<services::BundleStore> bundle_store_;
    std::unique_ptr<services::AttachmentStore> attachment_store_;
    std::unique_ptr<services::UserService> users_;
    std::unique_ptr<services::AuthService> auth_;
    std::unique_ptr<services::SyncService> sync_;
    std::unique_ptr<services::ExportService> exports_;
    std::unique_ptr<services::StatusService> status_;
    std::unique_ptr<services::AdminService> admin_;
    std::unique_ptr<services::RecordAdmin> record_admin_;
    std::unique_ptr<services::AuditService> audit_log_;
    std::string list_cursor_key_;
    // Made before fork and kept across drop_connections: the dummy password hash.
    std::string dummy_hash_;
};

}  // namespace handlers
