#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "db/statements.h"

BOOST_AUTO_TEST_SUITE(statements)

BOOST_AUTO_TEST_CASE(table_is_in_enum_order) {
    // statement_sql() indexes the table by the enum, so any other order would run
    // the wrong SQL.
    BOOST_TEST(db::statements_in_order());
}

BOOST_AUTO_TEST_CASE(every_statement_has_a_unique_name_and_sql) {
    std::set<std::string> names, sqls;
    for (size_t i = 0; i < static_cast<size_t>(db::Stmt::COUNT_); ++i) {
        auto id = static_cast<db::Stmt>(i);
        std::string name = db::statement_name(id), sql = db::statement_sql(id);
        BOOST_TEST(!name.empty());
        BOOST_TEST(!sql.empty(), name);
        BOOST_TEST(names.insert(name).second, "duplicate name " << name);
        BOOST_TEST(sqls.insert(sql).second, "duplicate SQL in " << name);
    }
    BOOST_TEST(std::string(db::statement_name(db::Stmt::USERS_SEL_BY_USERNAME)) == "USERS_SEL_BY_USERNAME");
}

BOOST_AUTO_TEST_CASE(sync_batches_have_one_statement_per_size) {
    const auto placeholders = [](db::Stmt id) {
        const std::string sql = db::statement_sql(id);
        return static_cast<size_t>(std::count(sql.begin(), sql.end(), '?'));
    };
    for (size_t n : db::kSyncLockSizes) {
        auto id = db::sync_stmt(db::SyncBatch::lock, n);
        BOOST_TEST(std::string(db::statement_name(id)) == "SYNC_RECORDS_LOCK_" + std::to_string(n));
        BOOST_TEST(placeholders(id) == n);
    }
    for (size_t n : db::kSyncUpsertSizes) {
        auto id = db::sync_stmt(db::SyncBatch::upsert, n);
        BOOST_TEST(std::string(db::statement_name(id)) == "SYNC_RECORDS_UPSERT_" + std::to_string(n));
        BOOST_TEST(placeholders(id) == n * db::kSyncUpsertColumns);
    }
    for (size_t n : db::kSyncFilterSizes) {
        auto id = db::sync_stmt(db::SyncBatch::filter, n);
        BOOST_TEST(std::string(db::statement_name(id)) == "SYNC_PULL_TYPES_" + std::to_string(n));
        BOOST_TEST(placeholders(id) == n * 4 + 1);
    }
    BOOST_CHECK_THROW(db::sync_stmt(db::SyncBatch::upsert, 7), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
