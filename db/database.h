// One MySQL/MariaDB connection per worker process (workers are single-threaded),
// opened lazily after fork, with every statement of db/statements.h prepared on
// open. A lost connection is dropped and reopened on the next use.
//
// Several database nodes (a Galera cluster) are tried in their configured order, on
// connect and whenever the connection is lost. A Galera node is used only while it
// is ready, Synced and in the primary component; a plain server (wsrep off) always
// qualifies. The state of the node in use is read again at most every
// kNodeRecheckMs, between units of work, so a node that turns donor or loses the
// primary component is left for the next one.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "db/error.h"
#include "db/statements.h"

// The connector's types are only declared here: the services' headers include this
// one, and the handlers must not see the connector (tests/check_layers.sh). A
// repository's .cpp includes db/sql.h for the definitions.
namespace sql {
class Connection;
class Driver;
class PreparedStatement;
class ResultSet;
}  // namespace sql

namespace db {

class Database;
class Snapshot;

// The handle of one unit of work (a transaction, or autocommit statements) open on
// the worker's connection. Only Database makes one, for the length of a
// transaction()/run() call; a service opens the unit of work and passes the handle
// to the repositories it uses, which run statements through it and never open one
// of their own. So which statements commit together is decided in services/ only.
class Tx {
public:
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    // The prepared statement `id` (db/statements.h), parameters cleared.
    sql::PreparedStatement& stmt(Stmt id);
    // True in a Database::transaction_opened_by_work whose transaction is not open yet:
    // the first statement the unit runs must open it (START TRANSACTION, e.g. in a
    // stored procedure, as ATT_PUT does when told to). False everywhere else.
    bool must_begin() const { return must_begin_; }

private:
    friend class Database;
    friend class Snapshot;
    explicit Tx(Database& db, bool must_begin = false) : db_(db), must_begin_(must_begin) {}
    Database& db_;
    bool must_begin_;
};

// A unit of work: what a service runs inside Database::transaction or Database::run.
using Work = std::function<void(Tx&)>;

// One database server: a unix socket, or host and port.
struct Endpoint {
    std::string host = "127.0.0.1";
    int port = 3306;
    std::string socket;  // when set, used instead of host/port
    std::string name() const { return socket.empty() ? host + ":" + std::to_string(port) : socket; }
};

struct NodeState {
    std::string address;
    std::string state;
};

// "host:port,host:port,..." (port optional, 3306); throws db::Error(other) naming the bad entry.
std::vector<Endpoint> parse_endpoints(const std::string& list);

struct Settings {
    std::vector<Endpoint> nodes{Endpoint{}};  // tried in this order
    std::string user;
    std::string password;
    std::string name;
    int connect_timeout_s = 5;
    int rw_timeout_s = 60;
    // How long a statement waits for a lock before the request gives up (503). Below
    // nginx's fastcgi_read_timeout, so a worker is never left waiting on a lock for a
    // client nginx has already answered with 504.
    int lock_wait_timeout_s = 20;
    int wsrep_sync_wait = 0;  // SESSION wsrep_sync_wait on Galera nodes (0: never wait)
};

// How often the state of the node in use is read again.
constexpr int64_t kNodeRecheckMs = 2000;
// A transaction (or statement) that meets deadlocks or certification conflicts is
// rerun at least kConflictAttempts times, and further while kConflictBudgetMs have not
// passed since its first run; then the caller gets the deadlock error (a 503).
//
// Why a time budget and not only a count: on Galera the loser of a certification race
// is the transaction that would have committed second, and its rerun starts behind the
// winner's next transaction whenever the winner's client sends them back to back (as a
// busy host does). In make test-cluster's two pushers through two hosts (every push
// colliding on the change counter), a rerun lost again about 7 times in 10, so 8
// attempts left about 1 push in 170 with a 503 (27 in 30 s); the phone then sends the
// whole push again over its link. The budget bounds the time a request spends, not the
// luck it needs: a worker keeps trying (each attempt about one push long, pauses of at
// most 200 ms) for up to 5 s, far below fastcgi_read_timeout, and any attempt that
// commits ends it. tests/cluster/test_6_contention.py checks it (no 503 from either
// pusher in 20 s; the count alone fails it).
constexpr int kConflictAttempts = 8;
constexpr int64_t kConflictBudgetMs = 5000;

class Database {
public:
    explicit Database(Settings s);
    ~Database();

    // The connection, opened (and all statements prepared) if needed.
    sql::Connection& conn();
    sql::PreparedStatement& stmt(Stmt id);
    // Opens without preparing statements (for migrations, before the tables exist).
    sql::Connection& raw_conn();
    void reset();

    // Runs `fn` as one transaction. Deadlocks and Galera certification conflicts rerun
    // it (at least `attempts` times and for kConflictBudgetMs, after a jittered, growing
    // pause; a lock wait timeout is not rerun, it already waited lock_wait_timeout_s); a
    // connection lost before COMMIT, or a node that is not ready, moves to the next
    // usable node and reruns it (once per configured node). A connection lost during
    // COMMIT is not rerun: whether it committed is unknown, so the caller gets
    // lost_connection and the client repeats the request (see db/sync_repository.cpp
    // for why a push is safe to repeat). Any SQL error is rethrown as db::Error.
    // `fn` must be safe to rerun: the rollback undid it. Returns how many times `fn`
    // ran (1 unless it was rerun).
    int transaction(const Work& fn, int attempts = kConflictAttempts);
    // transaction(), one round trip shorter (issue 18): no START TRANSACTION is sent
    // before `fn`; its first statement opens the transaction itself, as Tx::must_begin
    // tells it (then true). Everything else, the COMMIT, reruns and rollbacks included,
    // is transaction()'s. Nested in another transaction, must_begin is false and the
    // enclosing transaction holds, as for transaction().
    int transaction_opened_by_work(const Work& fn, int attempts = kConflictAttempts);
    // Runs `fn` outside a transaction with the same failover and conflict rules;
    // returns how many times it ran.
    int run(const Work& fn);
    // Like run(), but on Galera the reads of `fn` first wait until this node has applied
    // everything the cluster committed before (wsrep_sync_wait = 1): for reads that must
    // see another host's write of a moment ago (failed-login counts). Costs a cluster
    // round trip per read; a plain server does not wait.
    void run_causal(const Work& fn);
    // Connects to a usable node if there is none and reads the node's state afresh;
    // throws db::Error(node_unavailable or lost_connection) when no node is usable.
    void ping();
    // The node in use ("" when not connected), for logs and /health.
    std::string node() const;

    const Settings& settings() const { return settings_; }
    // Every configured node's state, each read over a connection of its own (2 s
    // connect timeout): wsrep_local_state_comment on Galera ("Synced", "Donor/Desynced",
    // "Joining"...), "non-primary", "standalone" for a server without wsrep, or
    // "unreachable". For the admin overview; costs a connection per node.
    std::vector<NodeState> node_states() const;

private:
    sql::Connection* connect_to(sql::Driver& driver, const Endpoint& ep, int timeout_s) const;
    void open(bool prepare);
    void connect_first_usable();
    // Between units of work: leaves the node if its last check is older than kNodeRecheckMs
    // and it is no longer usable.
    void recheck_node(bool force);
    void rollback_quietly();
    // opened_by_work: transaction_opened_by_work (as_transaction is true).
    int with_retries(const Work& fn, int attempts, bool as_transaction, bool opened_by_work = false);
    int max_failovers() const { return static_cast<int>(settings_.nodes.size()); }
    Settings settings_;
    size_t node_index_ = 0;
    bool galera_ = false;  // the node in use has wsrep on
    int64_t checked_at_ms_ = 0;
    int depth_ = 0;  // nesting of transaction()/run(): the node is only rechecked outside
    bool in_transaction_ = false;  // a transaction() is open (begun with START TRANSACTION)
    std::unique_ptr<sql::Connection> conn_;
    std::vector<std::unique_ptr<sql::PreparedStatement>> prepared_;
    bool prepared_all_ = false;
};

// A read-only consistent snapshot held open across several calls: for a reader that
// must see one committed state while it streams (the export). A service opens it;
// the repositories it reads through get the handle in read().
class Snapshot {
public:
    // START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY (REPEATABLE READ is the
    // session's level). The snapshot starts here, so an idle connection that went
    // stale may be replaced once (Database::run) without losing anything.
    explicit Snapshot(Database& db);
    // Rolls an unfinished snapshot back; drops the connection if even that fails, so
    // the next request on this worker never runs inside a stale snapshot.
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

    // Runs `fn` inside the snapshot. Never rerun: a reconnect would lose the snapshot.
    // SQL errors are rethrown as db::Error.
    void read(const Work& fn);
    // Ends the snapshot (COMMIT of a read-only transaction).
    void end();

private:
    Database& db_;
    bool open_ = false;
};

// Translates a Connector/C++ exception into db::Error.
[[noreturn]] void rethrow_sql(const std::exception& e);

}  // namespace db
