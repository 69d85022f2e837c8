#include "db/database.h"
#include "db/sql.h"

#include <cppconn/exception.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "core/log.h"

namespace db {

ErrorKind classify_errno(int code) {
    switch (code) {
        case 1062: return ErrorKind::duplicate;
        case 1213: return ErrorKind::deadlock;  // also a Galera certification conflict, on COMMIT or after a brute-force abort
        case 1205: return ErrorKind::lock_timeout;
        case 1047: return ErrorKind::node_unavailable;  // WSREP has not yet prepared node for application use
        case 2002:
        case 2003:
        case 2005:
        case 2006:
        case 2013:
        case 2055:
        case 1053:  // server shutdown in progress
        case 1927:  // connection killed
        case 1040:  // too many connections
        case 2026:  // SSL connection error
        case 4031:  // disconnected by the server for inactivity
            return ErrorKind::lost_connection;
        case 1146: return ErrorKind::missing_table;
        case 1153:
        case 1406: return ErrorKind::too_large;
        default: return ErrorKind::other;
    }
}

[[noreturn]] void rethrow_sql(const std::exception& e) {
    if (auto* se = dynamic_cast<const sql::SQLException*>(&e)) {
        int code = se->getErrorCode();
        // Connector/C++ reports some connection failures with code 0 and SQLSTATE 08xxx/HY000.
        ErrorKind kind = classify_errno(code);
        if (code == 0 && se->getSQLState().rfind("08", 0) == 0) kind = ErrorKind::lost_connection;
        throw Error(kind, code, std::string(se->what()) + " (errno " + std::to_string(code) + ")");
    }
    if (auto* de = dynamic_cast<const Error*>(&e)) throw *de;
    throw Error(ErrorKind::other, 0, e.what());
}

std::vector<Endpoint> parse_endpoints(const std::string& list) {
    std::vector<Endpoint> out;
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        Endpoint e;
        size_t colon = item.rfind(':');
        e.host = item.substr(0, colon);
        bool ok = !e.host.empty() && e.host.find_first_of(" \t/") == std::string::npos;
        if (ok && colon != std::string::npos) {
            std::string p = item.substr(colon + 1);
            ok = !p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoi(p) >= 1 && std::stoi(p) <= 65535;
            if (ok) e.port = std::stoi(p);
        }
        if (!ok) throw Error(ErrorKind::other, 0, "'" + item + "' is not host or host:port");
        out.push_back(e);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Why a connected server must not be used, or "" when it may. Only Galera nodes
// (wsrep on) are judged; a plain server has no other state to check.
std::string node_problem(sql::Connection& c, bool& galera) {
    std::unique_ptr<sql::Statement> st(c.createStatement());
    galera = false;
    try {
        std::unique_ptr<sql::ResultSet> on(st->executeQuery("SELECT @@wsrep_on"));
        if (!on->next() || on->getInt(1) == 0) return "";
    } catch (const sql::SQLException& e) {
        if (e.getErrorCode() == 1193) return "";  // no such variable: not MariaDB with wsrep
        throw;
    }
    galera = true;
    std::map<std::string, std::string> status;
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery(
        "SHOW GLOBAL STATUS WHERE Variable_name IN "
        "('wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment')"));
    while (rs->next()) status[rs->getString(1)] = rs->getString(2);
    // Not ready (and not in the primary component) means it refuses queries; a joiner,
    // donor or desynced node lags behind the cluster, so its reads would be stale.
    if (status["wsrep_ready"] != "ON") return "wsrep_ready is " + status["wsrep_ready"];
    if (status["wsrep_cluster_status"] != "Primary")
        return "wsrep_cluster_status is " + status["wsrep_cluster_status"];
    if (status["wsrep_local_state_comment"] != "Synced")
        return "wsrep_local_state_comment is " + status["wsrep_local_state_comment"];
    return "";
}

// Full jitter over a growing window (10, 20, 40 ... 200 ms): colliding pushes on
// different nodes retry at different times instead of colliding again.
void conflict_pause(int attempt) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    int window = std::min(200, 5 << std::min(attempt, 6));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, window)(rng)));
}

bool moves_node(ErrorKind k) { return k == ErrorKind::lost_connection || k == ErrorKind::node_unavailable; }

// Counts nesting of transaction()/run() so the node is only rechecked between units.
struct Depth {
    int& d;
    explicit Depth(int& x) : d(x) { ++d; }
    ~Depth() { --d; }
};

}  // namespace

Database::Database(Settings s) : settings_(std::move(s)) {}

Database::~Database() { reset(); }

void Database::reset() {
    prepared_.clear();
    prepared_all_ = false;
    try {
        if (conn_) conn_->close();
    } catch (...) {
    }
    conn_.reset();
}

std::string Database::node() const { return conn_ ? settings_.nodes[node_index_].name() : ""; }

sql::Connection* Database::connect_to(sql::Driver& driver, const Endpoint& ep, int timeout_s) const {
    sql::ConnectOptionsMap opts;
    if (!ep.socket.empty()) opts["hostName"] = sql::SQLString("unix://" + ep.socket);
    else opts["hostName"] = sql::SQLString("tcp://" + ep.host + ":" + std::to_string(ep.port));
    opts["userName"] = sql::SQLString(settings_.user);
    opts["password"] = sql::SQLString(settings_.password);
    if (!settings_.name.empty()) opts["schema"] = sql::SQLString(settings_.name);
    opts["OPT_CONNECT_TIMEOUT"] = timeout_s;
    opts["OPT_READ_TIMEOUT"] = settings_.rw_timeout_s;
    opts["OPT_WRITE_TIMEOUT"] = settings_.rw_timeout_s;
    opts["OPT_RECONNECT"] = false;  // a silent reconnect would lose transaction state
    opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    return driver.connect(opts);
}

std::vector<NodeState> Database::node_states() const {
    sql::mysql::MySQL_Driver* driver = sql::mysql::get_mysql_driver_instance();
    std::vector<NodeState> out;
    for (const Endpoint& ep : settings_.nodes) {
        NodeState n{ep.name(), "unreachable"};
        try {
            std::unique_ptr<sql::Connection> c(connect_to(*driver, ep, 2));
            bool galera = false;
            std::string problem = node_problem(*c, galera);
            if (!galera) {
                n.state = "standalone";
            } else {
                std::unique_ptr<sql::Statement> st(c->createStatement());
                std::unique_ptr<sql::ResultSet> rs(
                    st->executeQuery("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'"));
                n.state = rs->next() ? rs->getString(2) : "unknown";
                if (!problem.empty() && n.state == "Synced") n.state = "non-primary";
            }
        } catch (const std::exception&) {
        }
        out.push_back(std::move(n));
    }
    return out;
}

void Database::connect_first_usable() {
    sql::mysql::MySQL_Driver* driver = sql::mysql::get_mysql_driver_instance();
    std::string why;
    for (size_t i = 0; i < settings_.nodes.size(); ++i) {
        const Endpoint& ep = settings_.nodes[i];
        try {
            std::unique_ptr<sql::Connection> c(connect_to(*driver, ep, settings_.connect_timeout_s));
            bool galera = false;
            std::string problem = node_problem(*c, galera);
            if (!problem.empty()) {
                why += (why.empty() ? "" : "; ") + ep.name() + ": " + problem;
                continue;
            }
            std::unique_ptr<sql::Statement> st(c->createStatement());
            st->execute("SET time_zone = '+00:00'");
            st->execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            st->execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION'");
            // Row locks (InnoDB) and table/metadata locks (LOCK TABLES, DDL) alike.
            const std::string wait = std::to_string(settings_.lock_wait_timeout_s);
            st->execute("SET SESSION innodb_lock_wait_timeout = " + wait + ", lock_wait_timeout = " + wait);
            if (settings_.wsrep_sync_wait > 0)
                st->execute("SET SESSION wsrep_sync_wait = " + std::to_string(settings_.wsrep_sync_wait));
            if (i > 0 || settings_.nodes.size() > 1)
                core::log::info("database node " + ep.name() + (i > 0 ? " (not the first: " + why + ")" : ""));
            conn_ = std::move(c);
            galera_ = galera;
            node_index_ = i;
            checked_at_ms_ = now_ms();
            return;
        } catch (const sql::SQLException& e) {
            why += (why.empty() ? "" : "; ") + ep.name() + ": " + e.what();
        }
    }
    throw Error(ErrorKind::node_unavailable, 0, "no usable database node (" + why + ")");
}

void Database::open(bool prepare) {
    if (conn_ && (!prepare || prepared_all_)) return;
    try {
        if (!conn_) connect_first_usable();
        if (prepare && !prepared_all_) {
            prepared_.clear();
            for (size_t i = 0; i < static_cast<size_t>(Stmt::COUNT_); ++i)
                prepared_.emplace_back(conn_->prepareStatement(statement_sql(static_cast<Stmt>(i))));
            prepared_all_ = true;
        }
    } catch (const std::exception& e) {
        reset();
        rethrow_sql(e);
    }
}

void Database::recheck_node(bool force) {
    if (!conn_ || depth_ > 0 || (!force && now_ms() - checked_at_ms_ < kNodeRecheckMs)) return;
    std::string problem;
    try {
        problem = node_problem(*conn_, galera_);
    } catch (const std::exception& e) {
        problem = e.what();
    }
    checked_at_ms_ = now_ms();
    if (problem.empty()) return;
    core::log::warn("leaving database node " + node() + ": " + problem);
    reset();
}

void Database::ping() {
    recheck_node(true);
    open(true);
}

sql::Connection& Database::conn() {
    open(true);
    return *conn_;
}

sql::Connection& Database::raw_conn() {
    open(false);
    return *conn_;
}

sql::PreparedStatement& Database::stmt(Stmt id) {
    open(true);
    auto& ps = *prepared_[static_cast<size_t>(id)];
    ps.clearParameters();
    return ps;
}

sql::PreparedStatement& Tx::stmt(Stmt id) { return db_.stmt(id); }

int Database::run(const Work& fn) { return with_retries(fn, kConflictAttempts, false); }

void Database::rollback_quietly() {
    // A rollback that fails leaves the connection in an unknown state: drop it.
    try {
        if (conn_) {
            // A ROLLBACK statement: Connector/C++ refuses rollback() while it believes
            // autocommit is on, as it is inside START TRANSACTION.
            std::unique_ptr<sql::Statement>(conn_->createStatement())->execute("ROLLBACK");
            conn_->setAutoCommit(true);
        }
    } catch (...) {
        reset();
    }
}

void Database::run_causal(const Work& fn) {
    run([&](Tx& tx) {
        open(true);
        const bool wait = galera_ && settings_.wsrep_sync_wait == 0;
        auto set_wait = [&](int v) {
            std::unique_ptr<sql::Statement>(conn_->createStatement())
                ->execute("SET SESSION wsrep_sync_wait = " + std::to_string(v));
        };
        if (wait) set_wait(1);
        try {
            fn(tx);
        } catch (...) {
            if (wait && conn_) {
                try {
                    set_wait(0);
                } catch (...) {
                    reset();
                }
            }
            throw;
        }
        if (wait) set_wait(0);
    });
}

int Database::transaction(const Work& fn, int attempts) { return with_retries(fn, attempts, true); }

int Database::transaction_opened_by_work(const Work& fn, int attempts) {
    return with_retries(fn, attempts, true, true);
}

// The one retry loop of run() and transaction(). Only the outermost unit of work
// (depth 1) is rerun: a nested one's failure belongs to its caller's unit.
int Database::with_retries(const Work& fn, int attempts, bool as_transaction, bool opened_by_work) {
    recheck_node(false);
    Depth depth(depth_);
    int failovers = 0;
    const auto started = std::chrono::steady_clock::now();
    auto within_budget = [&] {
        return std::chrono::steady_clock::now() - started < std::chrono::milliseconds(kConflictBudgetMs);
    };
    for (int attempt = 1;; ++attempt) {
        bool committing = false;
        // The outermost transaction opens with START TRANSACTION and leaves autocommit
        // on, so it costs one round trip less than SET autocommit=0 ... SET autocommit=1
        // (issue 18). One nested in another keeps the old way: a START TRANSACTION
        // there would commit the enclosing one.
        const bool outermost = as_transaction && !in_transaction_;
        struct Open {
            bool& flag;
            bool was;
            ~Open() { flag = was; }
        } open_tx{in_transaction_, in_transaction_};
        try {
            try {
                // transaction_opened_by_work: fn's first statement is the START TRANSACTION.
                // Until it runs no transaction is open, so a failure before it has
                // nothing to roll back (the ROLLBACK below is then a no-op).
                const bool work_begins = outermost && opened_by_work;
                if (work_begins) {
                    conn();  // connects and prepares here, so a lost connection is rerun as before
                    in_transaction_ = true;
                } else if (outermost) {
                    std::unique_ptr<sql::Statement>(conn().createStatement())->execute("START TRANSACTION");
                    in_transaction_ = true;
                } else if (as_transaction) {
                    conn().setAutoCommit(false);
                }
                Tx tx(*this, work_begins);
                fn(tx);
                if (as_transaction) {
                    committing = true;
                    // A COMMIT statement, not conn_->commit(): Connector/C++ 1.1 ignores the
                    // result of mysql_commit(), so a COMMIT refused by Galera certification
                    // (1213) or cut by the server dying would look like success. The
                    // statement throws.
                    std::unique_ptr<sql::Statement>(conn_->createStatement())->execute("COMMIT");
                    if (!outermost) conn_->setAutoCommit(true);
                }
                return attempt;
            } catch (const sql::SQLException& e) {
                rethrow_sql(e);
            }
        } catch (const Error& e) {
            if (moves_node(e.kind())) {
                reset();
                // 1047 on COMMIT means the node could not certify it, so it did not commit.
                if (committing && e.kind() == ErrorKind::lost_connection)
                    throw Error(ErrorKind::lost_connection, e.code(),
                                std::string("connection lost during COMMIT, outcome unknown: ") + e.what());
                if (depth_ == 1 && ++failovers <= max_failovers()) {
                    core::log::warn(std::string("database node lost, rerunning on the next: ") + e.what());
                    continue;
                }
                throw;
            }
            if (as_transaction) rollback_quietly();
            // Galera retries a conflicting autocommit statement only wsrep_retry_autocommit
            // times; a transaction's conflict is only seen here.
            if (e.kind() == ErrorKind::deadlock && depth_ == 1 && (attempt < attempts || within_budget())) {
                conflict_pause(attempt);
                continue;
            }
            throw;
        } catch (...) {
            // Non-SQL exceptions (a caller aborting the transaction) roll back too.
            if (as_transaction) rollback_quietly();
            throw;
        }
    }
}

Snapshot::Snapshot(Database& db) : db_(db) {
    db_.run([](Tx& tx) { tx.stmt(Stmt::EXPORT_SNAPSHOT_BEGIN).execute(); });
    open_ = true;
}

Snapshot::~Snapshot() {
    if (!open_) return;
    try {
        db_.conn().rollback();
    } catch (...) {
        core::log::warn("could not roll back a read snapshot; dropping the connection");
        db_.reset();
    }
}

void Snapshot::read(const Work& fn) {
    try {
        Tx tx(db_);
        fn(tx);
    } catch (const sql::SQLException& e) {
        rethrow_sql(e);
    }
}

void Snapshot::end() {
    read([](Tx& tx) { tx.stmt(Stmt::EXPORT_SNAPSHOT_END).execute(); });
    open_ = false;
}

}  // namespace db
