#include "handlers/context.h"

#include <sys/mman.h>

#include <new>

#include "core/crypto.h"
#include "services/settings.h"

namespace handlers {

Context::Context(core::Config c) : cfg(std::move(c)) {
    jwt_secret = cfg.str("jwt_secret");
    password_params = services::password_params_from(cfg);
    db_settings = services::db_settings_from(cfg);
    void* shared = mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared != MAP_FAILED) bundle_generation = new (shared) std::atomic<uint64_t>(0);
}

db::Database& Context::database() {
    if (!db) db = std::make_unique<db::Database>(db_settings);
    return *db;
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
        attachment_store_ = std::make_unique<services::AttachmentStore>(database(), cfg.str("attachment_dir"));
    return *attachment_store_;
}

services::PresenceTracker& Context::presence() {
    if (!presence_) presence_ = std::make_unique<services::PresenceTracker>(cfg.integer("presence_interval"));
    return *presence_;
}

void Context::drop_connections() {
    bundle_store_.reset();
    attachment_store_.reset();
    db.reset();
}

const std::string& Context::dummy_hash() {
    if (dummy_hash_.empty()) dummy_hash_ = core::password_hash(core::hex_encode(core::random_bytes(16)), password_params);
    return dummy_hash_;
}

}  // namespace handlers
