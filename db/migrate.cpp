#include "db/migrate.h"

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
}  // namespace

std::vector<std::string> split_sql(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line, cur;
    while (std::getline(in, line)) {
        std::string t = line;
        t.erase(0, t.find_first_not_of(" \t"));
        if (t.rfind("--", 0) == 0) continue;
        cur += line + "\n";
        auto last = line.find_last_not_of(" \t\r");
        if (last != std::string::npos && line[last] == ';') {
            cur.erase(cur.find_last_of(';'));
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
constexpr size_t kRefsBatch = 500;

std::string placeholders(size_t n, const char* one) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.append(i ? "," : "").append(one);
    return s;
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
    std::unique_ptr<sql::PreparedStatement> sel(c.prepareStatement(
        "SELECT id, data, deleted FROM sync_records WHERE id > ? ORDER BY id LIMIT " + std::to_string(kRefsBatch) +
        " FOR UPDATE"));
    c.setAutoCommit(false);
    try {
        for (;;) {
            sel->setString(1, after);
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
            std::unique_ptr<sql::PreparedStatement> del(c.prepareStatement(
                "DELETE FROM attachment_refs WHERE record_id IN (" + placeholders(batch.size(), "?") + ")"));
            unsigned p = 1;
            for (const auto& [id, refs] : batch) del->setString(p++, id);
            del->executeUpdate();
            // In statements of at most 1000 rows (a statement takes at most 65535 parameters).
            std::vector<std::pair<const std::string*, const std::string*>> rows;
            for (const auto& [id, refs] : batch)
                for (const auto& a : refs) rows.emplace_back(&a, &id);
            for (size_t off = 0; off < rows.size(); off += 1000) {
                const size_t n = std::min<size_t>(1000, rows.size() - off);
                std::unique_ptr<sql::PreparedStatement> ins(c.prepareStatement(
                    "INSERT INTO attachment_refs (attachment_id, record_id) VALUES " + placeholders(n, "(?,?)") +
                    " ON DUPLICATE KEY UPDATE record_id = record_id"));
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
    } catch (...) {
        try {
            c.rollback();
            c.setAutoCommit(true);
        } catch (...) {
        }
        throw;
    }
    c.setAutoCommit(true);
    return records;
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
            st->execute("SET SESSION wsrep_sync_wait = 1");
        } catch (const sql::SQLException&) {
        }
        st->execute(kLeaseTableDdl);
        lease.take(kMigrateLeaseS, kMigrateWaitS);
        st->execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
            " checksum CHAR(64) NOT NULL, applied_at DATETIME NOT NULL) ENGINE=InnoDB");
        for (const auto& f : files) {
            std::ifstream in(sql_dir + "/" + f);
            std::stringstream ss;
            ss << in.rdbuf();
            std::string text = ss.str();
            int version = std::stoi(f);
            std::unique_ptr<sql::PreparedStatement> q(
                c.prepareStatement("SELECT name, checksum FROM schema_migrations WHERE version = ?"));
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
            std::unique_ptr<sql::PreparedStatement> rec(c.prepareStatement(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP())"));
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
