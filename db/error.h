// The one error type of the storage layer, classified by MySQL errno so callers
// can react to the kind (duplicate, deadlock, lost connection) and not the text.
#pragma once
#include <stdexcept>
#include <string>

namespace db {

enum class ErrorKind {
    duplicate,        // 1062 duplicate key
    deadlock,         // 1213 deadlock or Galera certification conflict: retry
    lock_timeout,     // 1205 lock wait timeout: a lock held too long; retrying would wait as long again
    lost_connection,  // 2002/2003/2006/2013/2055, server shutdown: reconnect
    node_unavailable, // 1047 (a Galera node not ready), or no usable node at all: go to another node
    missing_table,    // 1146: migrations not applied
    too_large,        // 1153/1406: packet or value too large
    other,
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, int code, const std::string& what) : std::runtime_error(what), kind_(kind), code_(code) {}
    ErrorKind kind() const { return kind_; }
    int code() const { return code_; }

private:
    ErrorKind kind_;
    int code_;
};

ErrorKind classify_errno(int code);

}  // namespace db
