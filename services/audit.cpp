#include "services/audit.h"

#include <stdexcept>

#include "core/time_util.h"
#include "db/audit_repository.h"
#include "db/sync_repository.h"
#include "services/housekeeping.h"
#include "services/unit_of_work.h"

namespace services {

std::optional<std::string> audit_filter_time(const std::string& rfc3339) {
    auto ms = core::parse_rfc3339_ms(rfc3339);
    if (!ms || !core::valid_rfc3339(rfc3339)) return std::nullopt;
    return db::sql_datetime_ms(*ms);
}

void audit(db::Tx& tx, const Actor& who, std::string_view action, std::string_view target,
           const domain::AuditDetail& detail) {
    if (!domain::valid_audit_action(action)) throw std::invalid_argument("invalid audit action");
    db::AuditRepository(tx).append(db::AuditRow{0, "", who.name, std::string(action), std::string(target),
                                                detail.json(), who.address, who.request_id});
}

std::vector<db::AuditRow> AuditService::page(const db::AuditFilter& filter, int limit) {
    return run_with<db::AuditRepository>(db_, [&](auto& repo) { return repo.page(filter, limit); });
}

void AuditService::delete_expired() {
    run_housekeeping(db_, "audit_retention",
                     [&](db::Tx& tx) { db::AuditRepository(tx).delete_older_than(retention_days_); });
}

}  // namespace services
