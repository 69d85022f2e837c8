#include "db/overview_repository.h"

#include <memory>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

OverviewFigures OverviewRepository::compute() {
    OverviewFigures f;
    // One snapshot, so the figures agree with one another.
    db_.transaction([&] {
        f = OverviewFigures{};
        {
            RS rs(db_.stmt(Stmt::OVERVIEW_ACTIVE_BUNDLE).executeQuery());
            if (rs->next() && !rs->isNull(1)) f.active_bundle_version = rs->getInt64(1);
        }
        {
            RS rs(db_.stmt(Stmt::SYNC_COUNTER_SEL).executeQuery());
            if (rs->next()) f.current_version = rs->getInt64(1);
        }
        {
            RS rs(db_.stmt(Stmt::USERS_COUNT).executeQuery());
            if (rs->next()) f.users = rs->getInt64(1);
        }
        {
            RS rs(db_.stmt(Stmt::OVERVIEW_COUNT_DEVICES).executeQuery());
            if (rs->next()) {
                f.devices = rs->getInt64(1);
                f.devices_seen_24h = rs->getInt64(2);
            }
        }
        {
            RS rs(db_.stmt(Stmt::OVERVIEW_COUNT_ATTACHMENTS).executeQuery());
            if (rs->next()) {
                f.attachments = rs->getInt64(1);
                f.attachment_bytes = rs->getInt64(2);
            }
        }
        RS rs(db_.stmt(Stmt::OVERVIEW_FORM_TYPES).executeQuery());
        while (rs->next())
            f.form_types.push_back({rs->getString(1), rs->getInt64(2), rs->getInt64(3), rs->getString(4)});
    });
    return f;
}

std::optional<CachedOverview> OverviewRepository::cached() {
    std::optional<CachedOverview> out;
    db_.run([&] {
        out.reset();
        RS rs(db_.stmt(Stmt::OVERVIEW_CACHE_SEL).executeQuery());
        if (rs->next()) out = CachedOverview{rs->getString(1), rs->getInt64(2)};
    });
    return out;
}

void OverviewRepository::store(const std::string& body, int64_t computed_at_ms) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::OVERVIEW_CACHE_SET);
        ps.setString(1, body);
        ps.setInt64(2, computed_at_ms);
        ps.executeUpdate();
    });
}

}  // namespace db
