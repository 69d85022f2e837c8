#include "db/lease.h"
#include "db/sql.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/log.h"

namespace db {

namespace {
// Prepared per use on the raw connection: leases are taken before migrations, when the
// statements of db/statements.h cannot be prepared yet, and rarely enough not to cache.
std::unique_ptr<sql::PreparedStatement> prepare(Database& db, RawStmt id) {
    return std::unique_ptr<sql::PreparedStatement>(db.raw_conn().prepareStatement(raw_statement_sql(id)));
}
}  // namespace

std::string lease_holder_name() {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return std::string(host) + ":" + std::to_string(getpid());
}

Lease::Lease(Database& db, std::string name, std::string holder)
    : db_(db), name_(std::move(name)), holder_(std::move(holder)) {}

bool Lease::try_take(int seconds) {
    try {
        int taken = 0;
        db_.run([&](Tx&) {
            auto create = prepare(db_, RawStmt::LEASE_CREATE);
            create->setString(1, name_);
            create->executeUpdate();
            auto take = prepare(db_, RawStmt::LEASE_TAKE);
            take->setString(1, holder_);
            take->setInt(2, seconds);
            take->setString(3, name_);
            take->setString(4, holder_);
            taken = take->executeUpdate();
        });
        return taken == 1;
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::deadlock) return false;  // another node's taker certified first
        throw;
    }
}

void Lease::take(int seconds, int wait_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    bool told = false;
    while (!try_take(seconds)) {
        std::string holder;
        int64_t left = 0;
        db_.run([&](Tx&) {
            auto sel = prepare(db_, RawStmt::LEASE_SEL);
            sel->setString(1, name_);
            std::unique_ptr<sql::ResultSet> rs(sel->executeQuery());
            if (rs->next()) {
                holder = rs->getString(1);
                left = rs->getInt64(2);
            }
        });
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error(ErrorKind::other, 0,
                        "the " + name_ + " lease is held by " + holder + " for " + std::to_string(left) + " s more");
        if (!told) core::log::info("waiting for the " + name_ + " lease, held by " + holder);
        told = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void Lease::release() {
    db_.run([&](Tx&) {
        auto rel = prepare(db_, RawStmt::LEASE_RELEASE);
        rel->setString(1, name_);
        rel->setString(2, holder_);
        rel->executeUpdate();
    });
}

bool take_job_turn(Database& db, const std::string& name, int interval_s) {
    try {
        // A holder name of its own per turn, so the same worker cannot take it again early.
        static uint64_t turns = 0;
        return Lease(db, name, lease_holder_name() + "#" + std::to_string(++turns)).try_take(interval_s);
    } catch (const std::exception& e) {
        core::log::warn("housekeeping job " + name + ": " + e.what());
        return false;
    }
}

}  // namespace db
