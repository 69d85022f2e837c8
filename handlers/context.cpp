#include "handlers/context.h"

#include <sys/mman.h>

#include <new>

#include "core/crypto.h"

namespace handlers {

db::Settings db_settings_from(const core::Config& cfg) {
    db::Settings s;
    if (!cfg.str("db_hosts").empty()) {
        s.nodes = db::parse_endpoints(cfg.str("db_hosts"));
    } else {
        s.nodes.assign(1, db::Endpoint{});
        s.nodes[0].host = cfg.str("db_host");
        s.nodes[0].port = static_cast<int>(cfg.integer("db_port"));
        s.nodes[0].socket = cfg.str("db_socket");
    }
    s.wsrep_sync_wait = static_cast<int>(cfg.integer("db_wsrep_sync_wait"));
    s.user = cfg.str("db_user");
    s.password = cfg.str("db_password");
    s.name = cfg.str("db_name");
    return s;
}

Context::Context(core::Config c) : cfg(std::move(c)) {
    jwt_secret = cfg.str("jwt_secret");
    password_params.memory_kib = static_cast<uint32_t>(cfg.integer("argon2_memory_kib"));
    password_params.time_cost = static_cast<uint32_t>(cfg.integer("argon2_time_cost"));
    db_settings = db_settings_from(cfg);
    void* shared = mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared != MAP_FAILED) bundle_generation = new (shared) std::atomic<uint64_t>(0);
}

db::Database& Context::database() {
    if (!db) db = std::make_unique<db::Database>(db_settings);
    return *db;
}

const std::string& Context::dummy_hash() {
    if (dummy_hash_.empty()) dummy_hash_ = core::password_hash(core::hex_encode(core::random_bytes(16)), password_params);
    return dummy_hash_;
}

}  // namespace handlers
