// One MySQL/MariaDB connection per worker process (workers are single-threaded),
// opened lazily after fork, with every statement of db/statements.h prepared on
// open. A lost connection is dropped and reopened on the next use.
#pragma once
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <mysql_connection.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "db/error.h"
#include "db/statements.h"

namespace db {

struct Settings {
    std::string host = "127.0.0.1";
    int port = 3306;
    std::string socket;  // when set, used instead of host/port
    std::string user;
    std::string password;
    std::string name;
    int connect_timeout_s = 5;
    int rw_timeout_s = 60;
    // How long a statement waits for a lock before the request gives up (503). Below
    // nginx's fastcgi_read_timeout, so a worker is never left waiting on a lock for a
    // client nginx has already answered with 504.
    int lock_wait_timeout_s = 20;
};

class Database {
public:
    explicit Database(Settings s) : settings_(std::move(s)) {}
    ~Database();

    // The connection, opened (and all statements prepared) if needed.
    sql::Connection& conn();
    sql::PreparedStatement& stmt(Stmt id);
    // Opens without preparing statements (for migrations, before the tables exist).
    sql::Connection& raw_conn();
    void reset();

    // Runs `fn` as one transaction. Deadlocks and lock timeouts rerun it (up to
    // `attempts`); a lost connection reconnects and reruns it once. Any SQL error is
    // rethrown as db::Error. `fn` must be safe to rerun: the rollback undid it.
    void transaction(const std::function<void()>& fn, int attempts = 4);
    // Runs `fn` outside a transaction with the same reconnect-once rule.
    void run(const std::function<void()>& fn);

    const Settings& settings() const { return settings_; }

private:
    void open(bool prepare);
    void rollback_quietly();
    Settings settings_;
    std::unique_ptr<sql::Connection> conn_;
    std::vector<std::unique_ptr<sql::PreparedStatement>> prepared_;
    bool prepared_all_ = false;
};

// Translates a Connector/C++ exception into db::Error.
[[noreturn]] void rethrow_sql(const std::exception& e);

}  // namespace db
