// What the handlers of one worker process share: settings, the database and the
// services built on it.
// Nothing here outlives a request except caches that other hosts' writes can only
// make stale for a bounded time (the revocation cache), so workers stay stateless.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/http.h"
#include "core/password.h"
#include "db/database.h"
#include "services/attachment_store.h"
#include "services/bundle_store.h"
#include "services/presence.h"
#include "services/user_service.h"

namespace handlers {

struct Context {
    explicit Context(core::Config c);

    core::Config cfg;
    std::string jwt_secret;
    core::PasswordParams password_params;
    db::Settings db_settings;
    // Per worker process; opened after fork.
    std::unique_ptr<db::Database> db;

    db::Database& database();
    // The app bundle store of this worker (it holds the worker's cache of parsed
    // manifests); made on first use, after fork.
    services::BundleStore& bundle_store();
    services::AttachmentStore& attachment_store();
    services::UserService users() { return services::UserService(database(), password_params); }
    // This worker's pending device presence (services/presence.h); made on first use.
    services::PresenceTracker& presence();
    // Drops the connection and everything built on it (never share them across fork).
    void drop_connections();

    // A hash of a random password, verified for unknown users so that a login for an
    // unknown user costs the same as one with a wrong password.
    const std::string& dummy_hash();

    // Revocation cache: username -> (token_version, role, read at ms).
    struct AuthEntry {
        bool exists;
        int64_t token_version;
        std::string role;
        int64_t read_at_ms;
        std::vector<std::string> revoked_jtis;  // access tokens ended by logout
    };
    std::map<std::string, AuthEntry> auth_cache;

    // Raised by any worker of this host that pushes or switches an app bundle version;
    // shared memory made before fork (see BundleStore::heads).
    std::atomic<uint64_t>* bundle_generation = nullptr;

private:
    std::string dummy_hash_;
    std::unique_ptr<services::BundleStore> bundle_store_;
    std::unique_ptr<services::AttachmentStore> attachment_store_;
    std::unique_ptr<services::PresenceTracker> presence_;
};

}  // namespace handlers
