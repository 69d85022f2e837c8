// The audit log (CONTRACT §8): every change an admin makes and every security event.
// A service appends with one line, inside the transaction of the change it records:
//
//     db_.transaction([&] { ...the change...; services::audit(db_, who, "user.role", name, detail); });
//
// so that a change and its event commit together or not at all. The detail is a
// domain::AuditDetail, which refuses keys naming a password, token, hash or secret.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/audit_repository.h"
#include "db/database.h"
#include "domain/audit_event.h"

namespace services {

// Who acts: the signed-in user (or the username tried, for a failed login), the
// client address and the request id, for the log.
struct Actor {
    std::string name;
    std::string address;
    std::string request_id;
};

// The actor of everything synkronus-admin changes.
inline Actor admin_tool_actor() { return Actor{"synkronus-admin", "", ""}; }

// Appends one event; in a Database::transaction() it is part of that transaction.
void audit(db::Database& db, const Actor& who, std::string_view action, std::string_view target,
           const domain::AuditDetail& detail = {});

// An RFC 3339 time as db::AuditFilter's after/before take it ("YYYY-MM-DD
// hh:mm:ss.fff", UTC); nullopt when `rfc3339` is not an RFC 3339 time.
std::optional<std::string> audit_filter_time(const std::string& rfc3339);

class AuditService {
public:
    AuditService(db::Database& db, int64_t retention_days) : repo_(db), retention_days_(retention_days) {}
    // One page newest first; also runs retention now and then (at most once a minute
    // across hosts, under a lease).
    std::vector<db::AuditRow> page(const db::AuditFilter& filter, int limit);
    void delete_expired() { repo_.delete_older_than(retention_days_); }

private:
    db::AuditRepository repo_;
    int64_t retention_days_;
};

}  // namespace services
