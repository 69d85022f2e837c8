#include "services/audit.h"

#include <stdexcept>

namespace services {

void audit(db::Database& db, const Actor& who, std::string_view action, std::string_view target,
           const domain::AuditDetail& detail) {
    if (!domain::valid_audit_action(action)) throw std::invalid_argument("invalid audit action");
    db::AuditRepository(db).append(db::AuditRow{0, "", who.name, std::string(action), std::string(target),
                                                detail.json(), who.address, who.request_id});
}

std::vector<db::AuditRow> AuditService::page(const db::AuditFilter& filter, int limit) {
    return repo_.page(filter, limit);
}

}  // namespace services
