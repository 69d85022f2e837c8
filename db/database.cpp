#include "db/database.h"

#include <cppconn/exception.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <thread>

#include "core/log.h"

namespace db {

ErrorKind classify_errno(int code) {
    switch (code) {
        case 1062: return ErrorKind::duplicate;
        case 1213: return ErrorKind::deadlock;
        case 1205: return ErrorKind::lock_timeout;
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

void Database::open(bool prepare) {
    if (conn_ && (!prepare || prepared_all_)) return;
    try {
        if (!conn_) {
            sql::mysql::MySQL_Driver* driver = sql::mysql::get_mysql_driver_instance();
            sql::ConnectOptionsMap opts;
            if (!settings_.socket.empty()) opts["hostName"] = sql::SQLString("unix://" + settings_.socket);
            else opts["hostName"] = sql::SQLString("tcp://" + settings_.host + ":" + std::to_string(settings_.port));
            opts["userName"] = sql::SQLString(settings_.user);
            opts["password"] = sql::SQLString(settings_.password);
            if (!settings_.name.empty()) opts["schema"] = sql::SQLString(settings_.name);
            opts["OPT_CONNECT_TIMEOUT"] = settings_.connect_timeout_s;
            opts["OPT_READ_TIMEOUT"] = settings_.rw_timeout_s;
            opts["OPT_WRITE_TIMEOUT"] = settings_.rw_timeout_s;
            opts["OPT_RECONNECT"] = false;  // a silent reconnect would lose transaction state
            opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
            conn_.reset(driver->connect(opts));
            std::unique_ptr<sql::Statement> st(conn_->createStatement());
            st->execute("SET time_zone = '+00:00'");
            st->execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            st->execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION'");
            // Row locks (InnoDB) and table/metadata locks (LOCK TABLES, DDL) alike.
            const std::string wait = std::to_string(settings_.lock_wait_timeout_s);
            st->execute("SET SESSION innodb_lock_wait_timeout = " + wait + ", lock_wait_timeout = " + wait);
        }
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

void Database::run(const std::function<void()>& fn) {
    for (int attempt = 0;; ++attempt) {
        try {
            try {
                fn();
                return;
            } catch (const sql::SQLException& e) {
                rethrow_sql(e);
            }
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::lost_connection && attempt == 0) {
                core::log::warn(std::string("database connection lost, reconnecting: ") + e.what());
                reset();
                continue;
            }
            if (e.kind() == ErrorKind::lost_connection) reset();
            throw;
        }
    }
}

void Database::rollback_quietly() {
    // A rollback that fails leaves the connection in an unknown state: drop it.
    try {
        if (conn_) {
            conn_->rollback();
            conn_->setAutoCommit(true);
        }
    } catch (...) {
        reset();
    }
}

void Database::transaction(const std::function<void()>& fn, int attempts) {
    bool reconnected = false;
    for (int attempt = 1;; ++attempt) {
        try {
            try {
                conn().setAutoCommit(false);
                fn();
                // Not conn_->commit(): Connector/C++ 1.1 ignores mysql_commit()'s result, so a
                // COMMIT cut by the server dying looked like success and the push was answered
                // 200 but never stored (test_faults caught it). A COMMIT statement throws.
                std::unique_ptr<sql::Statement>(conn_->createStatement())->execute("COMMIT");
                conn_->setAutoCommit(true);
                return;
            } catch (const sql::SQLException& e) {
                rethrow_sql(e);
            }
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::lost_connection) {
                reset();
                if (!reconnected) {
                    reconnected = true;
                    core::log::warn(std::string("database connection lost in a transaction, retrying: ") + e.what());
                    continue;
                }
                throw;
            }
            rollback_quietly();
            if (e.kind() == ErrorKind::deadlock && attempt < attempts) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
                continue;
            }
            throw;
        } catch (...) {
            // Non-SQL exceptions (a caller aborting the transaction) roll back too.
            rollback_quietly();
            throw;
        }
    }
}

}  // namespace db
