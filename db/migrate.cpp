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
