#include "db/audit_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

void AuditRepository::append(const AuditRow& e) {
    auto& ps = tx_.stmt(Stmt::AUDIT_INS);
    ps.setString(1, e.actor.substr(0, 64));
    ps.setString(2, e.action);
    ps.setString(3, e.target.substr(0, 255));
    ps.setString(4, e.detail);
    ps.setString(5, e.address.substr(0, 64));
    ps.setString(6, e.request_id.substr(0, 64));
    ps.executeUpdate();
}

std::vector<AuditRow> AuditRepository::page(const AuditFilter& f, int limit) {
    std::vector<AuditRow> out;
    Stmt id = f.actor && f.action ? Stmt::AUDIT_SEL_PAGE_ACTOR_ACTION
              : f.actor           ? Stmt::AUDIT_SEL_PAGE_ACTOR
              : f.action          ? Stmt::AUDIT_SEL_PAGE_ACTION
                                  : Stmt::AUDIT_SEL_PAGE;
    auto& ps = tx_.stmt(id);
    int i = 1;
    if (f.actor) ps.setString(i++, *f.actor);
    if (f.action) ps.setString(i++, *f.action);
    ps.setInt64(i++, f.below_id);
    ps.setString(i++, f.after);
    ps.setString(i++, f.before);
    ps.setInt(i++, limit);
    RS rs(ps.executeQuery());
    while (rs->next())
        out.push_back(AuditRow{rs->getInt64(1), rs->getString(2), rs->getString(3), rs->getString(4),
                               rs->getString(5), rs->getString(6), rs->getString(7), rs->getString(8)});
    return out;
}

void AuditRepository::delete_older_than(int64_t days) {
    auto& ps = tx_.stmt(Stmt::AUDIT_DEL_OLD);
    ps.setInt64(1, days);
    ps.executeUpdate();
}

}  // namespace db
