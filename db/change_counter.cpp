#include "db/change_counter.h"
#include "db/sql.h"

#include <memory>

#include "db/statements.h"

namespace db {

namespace {

int64_t read_one(Tx& tx, Stmt which) {
    std::unique_ptr<sql::ResultSet> rs(tx.stmt(which).executeQuery());
    if (!rs->next()) throw Error(ErrorKind::missing_table, 0, "sync_counter row missing");
    return rs->getInt64(1);
}

}  // namespace

int64_t lock_change_counter(Tx& tx) { return read_one(tx, Stmt::SYNC_COUNTER_LOCK); }

int64_t read_change_counter(Tx& tx) { return read_one(tx, Stmt::SYNC_COUNTER_SEL); }

void set_change_counter(Tx& tx, int64_t last_change_id) {
    auto& add = tx.stmt(Stmt::SYNC_COUNTER_ADD);
    add.setInt64(1, last_change_id);
    add.executeUpdate();
}

}  // namespace db
