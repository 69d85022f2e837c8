#include "db/migrate.h"
#include "db/sql.h"

#include <cppconn/exception.h>
#include <cppconn/statement.h>
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/crypto.h"
#include "core/log.h"
#include "db/lease.h"
#include "domain/attachment_refs.h"

namespace db {

namespace {
constexpr int kMigrateLeaseS = 600;  // renewed before each migration file
constexpr int kMigrateWaitS = 900;   // a waiter outlasts one holder's lease

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::other, 0, "cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

std::string unknown_migrations_message(const std::vector<std::string>& applied_unknown,
                                       const std::vector<std::string>& known_files) {
    std::string names;
    for (const auto& n : applied_unknown) names += (names.empty() ? "" : ", ") + n;
    std::string newest = known_files.empty() ? std::string("none") : known_files.back();
    return "the database holds migration(s) this release does not know: " + names +
           " (the newest it knows is " + newest +
           "). They were applied by a newer synkronus-fcgi: a downgrade. Install that release again, "
           "or restore the database backup taken before the upgrade (README.Debian, \"Upgrading\").";
}

namespace {
// A database a newer release migrated must not be served by an older one: its
// code would ignore the newer tables and columns (today's clients would get 400s
// and 404s) and its writes could break the newer release's invariants. Checked
// under the lease, before anything is applied, so a refused run changes nothing.
void refuse_unknown_versions(sql::Connection& c, const std::vector<std::string>& files) {
    std::vector<int> known;
    for (const auto& f : files) known.push_back(std::stoi(f));
    std::unique_ptr<sql::Statement> st(c.createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery(raw_statement_sql(RawStmt::MIGRATION_LIST)));
    std::vector<std::string> unknown;
    while (rs->next())
        if (std::find(known.begin(), known.end(), rs->getInt(1)) == known.end())
            unknown.push_back(std::string(rs->getString(2)));
    if (!unknown.empty()) throw Error(ErrorKind::other, 0, unknown_migrations_message(unknown, files));
}
}  // namespace

std::vector<std::string> split_sql(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line, cur;
    // A `DELIMITER x` line changes what ends a statement, as in the mariadb client, so a
    // stored procedure's body (whose statements end in `;`) is sent as one statement.
    std::string delimiter = ";";
    while (std::getline(in, line)) {
        std::string t = line;
        t.erase(0, t.find_first_not_of(" \t"));
        if (t.rfind("--", 0) == 0) continue;
        if (cur.find_first_not_of(" \t\r\n") == std::string::npos && t.size() > 10 &&
            (t.compare(0, 10, "DELIMITER ") == 0 || t.compare(0, 10, "delimiter ") == 0)) {
            delimiter = t.substr(10);
            delimiter.erase(delimiter.find_last_not_of(" \t\r") + 1);
            delimiter.erase(0, delimiter.find_first_not_of(" \t"));
            if (delimiter.empty()) throw Error(ErrorKind::other, 0, "DELIMITER without a delimiter");
            cur.clear();
            continue;
        }
        cur += line + "\n";
        auto last = line.find_last_not_of(" \t\r");
        if (last != std::string::npos && last + 1 >= delimiter.size() &&
            line.compare(last + 1 - delimiter.size(), delimiter.size(), delimiter) == 0) {
            cur.erase(cur.rfind(delimiter));
            if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
            cur.clear();
        }
    }
    if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
    return out;
}

namespace {
// The migration after whose tables the attachment references are backfilled.
constexpr int kRefsMigration = 7;
// The migrations whose fill transaction (the statements between its START TRANSACTION
// and COMMIT) recount_records runs again: one text of each fill, in its migration.
constexpr const char* kRecordCountsMigration = "011_record_counts.sql";
constexpr const char* kAttachmentTotalsMigration = "012_attachment_totals.sql";
constexpr size_t kRefsBatch = 500;

// Runs `fn` on the raw connection with autocommit off; `fn` commits what it wants
// kept (one or more transactions). Anything it throws rolls the open one back, and
// the connection is left in autocommit either way.
void in_raw_transactions(sql::Connection& c, const std::function<void()>& fn) {
    c.setAutoCommit(false);
    try {
        fn();
    } catch (...) {
        try {
            c.rollback();
            c.setAutoCommit(true);
        } catch (...) {
        }
        throw;
    }
    c.setAutoCommit(true);
}

// The statements of a migration's fill transaction, between its START TRANSACTION and
// its COMMIT.
std::vector<std::string> fill_statements(const std::string& sql_dir, const char* file) {
    std::vector<std::string> out;
    bool inside = false;
    for (const auto& s : split_sql(read_file(sql_dir + "/" + file))) {
        const std::string t = s.substr(s.find_first_not_of(" \t\r\n"));
        if (t.rfind("START TRANSACTION", 0) == 0) {
            inside = true;
        } else if (t.rfind("COMMIT", 0) == 0) {
            inside = false;
        } else if (inside) {
            out.push_back(t);
        }
    }
    if (out.empty()) throw Error(ErrorKind::other, 0, std::string(file) + " in " + sql_dir + " has no fill transaction");
    return out;
}
}  // namespace

// Bounded: one transaction per kRefsBatch records in primary-key order, so memory and
// lock time do not grow with the store, and an interrupted run is simply run again
// (each batch replaces its records' references). The batch's rows are locked FOR
// UPDATE, so a push of one of them (which replaces its references in its own
// transaction) comes wholly before or after the batch: neither can leave stale rows.
size_t rebuild_attachment_refs(sql::Connection& c, const std::function<void()>& between_batches) {
    size_t records = 0;
    std::string after;
    std::unique_ptr<sql::PreparedStatement> sel(c.prepareStatement(raw_statement_sql(RawStmt::REFS_BACKFILL_SEL)));
    in_raw_transactions(c, [&] {
        for (;;) {
            sel->setString(1, after);
            sel->setInt(2, static_cast<int>(kRefsBatch));
            std::vector<std::pair<std::string, std::vector<std::string>>> batch;
            {
                std::unique_ptr<sql::ResultSet> rs(sel->executeQuery());
                while (rs->next()) {
                    std::vector<std::string> refs;
                    if (rs->getInt(3) == 0) refs = domain::attachment_refs(std::string(rs->getString(2)));
                    batch.emplace_back(rs->getString(1), std::move(refs));
                }
            }
            if (batch.empty()) {
                c.commit();
                break;
            }
            std::unique_ptr<sql::PreparedStatement> del(c.prepareStatement(refs_backfill_delete_sql(batch.size())));
            unsigned p = 1;
            for (const auto& [id, refs] : batch) del->setString(p++, id);
            del->executeUpdate();
            // In statements of at most 1000 rows (a statement takes at most 65535 parameters).
            std::vector<std::pair<const std::string*, const std::string*>> rows;
            for (const auto& [id, refs] : batch)
                for (const auto& a : refs) rows.emplace_back(&a, &id);
            for (size_t off = 0; off < rows.size(); off += 1000) {
                const size_t n = std::min<size_t>(1000, rows.size() - off);
                std::unique_ptr<sql::PreparedStatement> ins(c.prepareStatement(refs_backfill_insert_sql(n)));
                p = 1;
                for (size_t i = off; i < off + n; ++i) {
                    ins->setString(p++, *rows[i].first);
                    ins->setString(p++, *rows[i].second);
                }
                ins->executeUpdate();
            }
            c.commit();
            records += batch.size();
            after = batch.back().first;
            if (between_batches) between_batches();
        }
    });
    return records;
}

int64_t recount_records(sql::Connection& c, const std::string& sql_dir) {
    std::vector<std::string> fill = fill_statements(sql_dir, kRecordCountsMigration);
    for (auto& s : fill_statements(sql_dir, kAttachmentTotalsMigration)) fill.push_back(std::move(s));
    std::unique_ptr<sql::Statement> st(c.createStatement());
    int64_t n = 0;
    in_raw_transactions(c, [&] {
        for (const auto& s : fill) st->execute(s);
        std::unique_ptr<sql::ResultSet> rs(st->executeQuery(raw_statement_sql(RawStmt::RECOUNT_TOTAL)));
        if (rs->next()) n = rs->getInt64(1);
        c.commit();
    });
    return n;
}

MigrationResult migrate(Database& db, const std::string& sql_dir) {
    std::vector<std::string> files;
    if (DIR* d = opendir(sql_dir.c_str())) {
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 4 && n.substr(n.size() - 4) == ".sql" && std::isdigit(static_cast<unsigned char>(n[0])))
                files.push_back(n);
        }
        closedir(d);
    } else {
        throw Error(ErrorKind::other, 0, "cannot read migrations directory " + sql_dir);
    }
    std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
        return std::stol(a) != std::stol(b) ? std::stol(a) < std::stol(b) : a < b;
    });

    MigrationResult result;
    // A lease row, not GET_LOCK: two hosts starting together on two Galera nodes must
    // not both apply a migration (db/lease.h says why the row serializes them). Taken
    // for kMigrateLeaseS and renewed before each file; a crashed migrator's lease runs out.
    Lease lease(db, "migrate", lease_holder_name());
    try {
        sql::Connection& c = db.raw_conn();
        std::unique_ptr<sql::Statement> st(c.createStatement());
        // On Galera, reads wait until this node has applied everything committed before
        // (the previous holder's migrations); a plain server ignores it.
        try {
            st->execute(raw_statement_sql(RawStmt::SYNC_WAIT_ON));
        } catch (const sql::SQLException&) {
        }
        // The lease's own table, before the lease (its migration is idempotent; it is
        // recorded in order below like every other).
        if (std::find(files.begin(), files.end(), kLeaseMigration) == files.end())
            throw Error(ErrorKind::other, 0, std::string("migration ") + kLeaseMigration + " is missing from " + sql_dir);
        for (const auto& s : split_sql(read_file(sql_dir + "/" + kLeaseMigration))) st->execute(s);
        lease.take(kMigrateLeaseS, kMigrateWaitS);
        st->execute(raw_statement_sql(RawStmt::MIGRATIONS_TABLE));
        refuse_unknown_versions(c, files);
        for (const auto& f : files) {
            const std::string text = read_file(sql_dir + "/" + f);
            int version = std::stoi(f);
            std::unique_ptr<sql::PreparedStatement> q(c.prepareStatement(raw_statement_sql(RawStmt::MIGRATION_SEL)));
            q->setInt(1, version);
            std::unique_ptr<sql::ResultSet> rs(q->executeQuery());
            if (rs->next()) {
                if (std::string(rs->getString(2)) != core::sha256_hex(text))
                    core::log::warn("migration " + f + " changed after it was applied; released migrations must not be edited");
                result.already.push_back(f);
                continue;
            }
            if (!lease.try_take(kMigrateLeaseS))
                throw Error(ErrorKind::other, 0, "lost the migrate lease before " + f);
            for (const auto& s : split_sql(text)) st->execute(s);
            // Before the migration is recorded: a run cut short is run again in full.
            if (version == kRefsMigration) {
                const size_t n = rebuild_attachment_refs(c, [&] {
                    if (!lease.try_take(kMigrateLeaseS))
                        throw Error(ErrorKind::other, 0, "lost the migrate lease during " + f);
                });
                core::log::info("attachment references backfilled from " + std::to_string(n) + " records");
            }
            std::unique_ptr<sql::PreparedStatement> rec(c.prepareStatement(raw_statement_sql(RawStmt::MIGRATION_INS)));
            rec->setInt(1, version);
            rec->setString(2, f);
            rec->setString(3, core::sha256_hex(text));
            rec->execute();
            result.applied.push_back(f);
        }
        lease.release();
    } catch (const std::exception& e) {
        try {
            lease.release();
        } catch (...) {
        }
        db.reset();
        rethrow_sql(e);
    }
    db.reset();  // statements are prepared afresh against the new schema
    return result;
}

}  // namespace db
