#include "handlers/context.h"

#include <sys/mman.h>

#include <new>

#include "core/crypto.h"

namespace handlers {

db::Settings db_settings_from(const core::Config& cfg) {
    db::Settings s;
    s.host = cfg.str("db_host");
    s.port = static_cast<int>(cfg.integer("db_port"));
    s.socket = cfg.str("db_socket");
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
