// The audit log table: append (inside the caller's transaction when there is one),
// pages newest first, retention.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct AuditRow {
    int64_t id = 0;
    std::string at;  // RFC 3339 UTC
    std::string actor;
    std::string action;
    std::string target;
    std::string detail;  // a JSON object
    std::string address;
    std::string request_id;
};

struct AuditFilter {
    std::optional<std::string> actor;
    std::optional<std::string> action;
    std::string after = "1970-01-01 00:00:00";   // exclusive, UTC "YYYY-MM-DD hh:mm:ss.ffffff"
    std::string before = "9999-12-31 23:59:59";  // exclusive
    int64_t below_id = INT64_MAX;                // the cursor: ids below it
};

class AuditRepository {
public:
    explicit AuditRepository(Database& db) : db_(db) {}
    // One INSERT. Inside Database::transaction() it commits or rolls back with the
    // change it records.
    void append(const AuditRow& event);
    std::vector<AuditRow> page(const AuditFilter& filter, int limit);
    // Housekeeping: at most once a minute cluster-wide, never throws.
    void delete_older_than(int64_t days);

private:
    Database& db_;
};

}  // namespace db
