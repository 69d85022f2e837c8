// The audit log (CONTRACT §8): every change an admin makes and every security event.
// A service appends with one line, inside the transaction of the change it records:
//
//     db_.transaction([&](db::Tx& tx) { ...the change...; services::audit(tx, who, "user.role", name, detail); });
//
// so that a change and its event commit together or not at all. The detail is a
// domain::AuditDetail, which refuses keys naming a password, token, hash or secret.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"
#include "db/rows.h"
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

// Appends one event to the unit of work `tx`: in a transaction, it commits with it.
void audit(db::Tx& tx, const Actor& who, std::string_view action, std::string_view target,
           const domain::AuditDetail& detail = {});

// An RFC 3339 time as db::AuditFilter's after/before take it ("YYYY-MM-DD
// hh:mm:ss.fff", UTC); nullopt when `rfc3339` is not an RFC 3339 time.
std::optional<std::string> audit_filter_time(const std::string& rfc3339);

class AuditService {
public:
    AuditService(db::Database& db, int64_t retention_days) : db_(db), retention_days_(retention_days) {}
    // One page newest first; also runs retention now and then (at most once a minute
    // across hosts, under a lease).
    std::vector<db::AuditRow> page(const db::AuditFilter& filter, int limit);
    // Retention: at most once a minute cluster-wide; never throws.
    void delete_expired();

private:
    db::Database& db_;
    int64_t retention_days_;
};

}  // namespace services
