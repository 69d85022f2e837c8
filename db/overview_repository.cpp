#include "db/overview_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

OverviewFigures OverviewRepository::compute() {
    OverviewFigures f;
    {
        RS rs(tx_.stmt(Stmt::OVERVIEW_ACTIVE_BUNDLE).executeQuery());
        if (rs->next() && !rs->isNull(1)) f.active_bundle_version = rs->getInt64(1);
    }
    {
        RS rs(tx_.stmt(Stmt::SYNC_COUNTER_SEL).executeQuery());
        if (rs->next()) f.current_version = rs->getInt64(1);
    }
    {
        RS rs(tx_.stmt(Stmt::USERS_COUNT).executeQuery());
        if (rs->next()) f.users = rs->getInt64(1);
    }
    {
        RS rs(tx_.stmt(Stmt::OVERVIEW_COUNT_DEVICES).executeQuery());
        if (rs->next()) {
            f.devices = rs->getInt64(1);
            f.devices_seen_24h = rs->getInt64(2);
        }
    }
    {
        RS rs(tx_.stmt(Stmt::OVERVIEW_COUNT_ATTACHMENTS).executeQuery());
        if (rs->next()) {
            f.attachments = rs->getInt64(1);
            f.attachment_bytes = rs->getInt64(2);
        }
    }
    RS rs(tx_.stmt(Stmt::OVERVIEW_FORM_TYPES).executeQuery());
    while (rs->next())
        f.form_types.push_back({rs->getString(1), rs->getInt64(2), rs->getInt64(3), rs->getString(4)});
    return f;
}

std::optional<CachedOverview> OverviewRepository::cached() {
    RS rs(tx_.stmt(Stmt::OVERVIEW_CACHE_SEL).executeQuery());
    if (!rs->next()) return std::nullopt;
    return CachedOverview{rs->getString(1), rs->getInt64(2)};
}

void OverviewRepository::store(const std::string& body, int64_t computed_at_ms) {
    auto& ps = tx_.stmt(Stmt::OVERVIEW_CACHE_SET);
    ps.setString(1, body);
    ps.setInt64(2, computed_at_ms);
    ps.executeUpdate();
}

}  // namespace db
