#include "db/export_repository.h"

#include <cppconn/exception.h>

#include <memory>

#include "core/log.h"

namespace db {

namespace {

// Reads inside the snapshot are never retried: a reconnect would lose the snapshot.
template <typename Fn>
auto in_snapshot(Fn&& fn) {
    try {
        return fn();
    } catch (const sql::SQLException& e) {
        rethrow_sql(e);
    }
}

std::optional<std::string> nullable(sql::ResultSet& rs, int col) {
    if (rs.isNull(col)) return std::nullopt;
    return std::string(rs.getString(col));
}

}  // namespace

void ExportRepository::begin_snapshot() {
    // The snapshot starts here, so an idle connection that went stale may be
    // replaced once (Database::run) without losing anything.
    db_.run([&] { db_.stmt(Stmt::EXPORT_SNAPSHOT_BEGIN).execute(); });
}

void ExportRepository::end_snapshot() {
    in_snapshot([&] { db_.stmt(Stmt::EXPORT_SNAPSHOT_END).execute(); });
}

void ExportRepository::abandon_snapshot() noexcept {
    try {
        db_.conn().rollback();
    } catch (...) {
        core::log::warn("could not roll back the export snapshot; dropping the connection");
        db_.reset();
    }
}

std::optional<std::string> ExportRepository::next_form_type(const std::optional<std::string>& after) {
    return in_snapshot([&]() -> std::optional<std::string> {
        auto& ps = db_.stmt(after ? Stmt::EXPORT_NEXT_TYPE : Stmt::EXPORT_FIRST_TYPE);
        if (after) ps.setString(1, *after);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        if (!rs->next()) return std::nullopt;
        return nullable(*rs, 1);
    });
}

ExportPage ExportRepository::page(Stmt which, const std::string& form_type, const domain::ExportFilter& filter,
                                  const ExportCursor& after, int limit,
                                  const std::function<void(sql::ResultSet&)>& row) {
    return in_snapshot([&] {
        auto& ps = db_.stmt(which);
        ps.setString(1, form_type);
        ps.setString(2, after.synced);
        ps.setString(3, after.synced);
        ps.setInt64(4, after.change_id);
        ps.setString(5, filter.synced_before);
        ps.setInt(6, filter.include_deleted ? 1 : 0);
        ps.setInt(7, limit);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        const int cursor_col = which == Stmt::EXPORT_SEL_DATA_PAGE ? 3 : 11;
        ExportPage page;
        while (rs->next()) {
            page.last.change_id = rs->getInt64(1);  // both statements start with change_id
            page.last.synced = rs->getString(cursor_col);
            ++page.rows;
            row(*rs);
        }
        return page;
    });
}

ExportPage ExportRepository::data_page(const std::string& form_type, const domain::ExportFilter& filter,
                                       const ExportCursor& after, int limit,
                                       const std::function<void(std::string_view)>& fn) {
    return page(Stmt::EXPORT_SEL_DATA_PAGE, form_type, filter, after, limit, [&](sql::ResultSet& rs) {
        sql::SQLString data = rs.getString(2);
        fn(std::string_view(data.c_str(), data.length()));
    });
}

ExportPage ExportRepository::record_page(const std::string& form_type, const domain::ExportFilter& filter,
                                         const ExportCursor& after, int limit,
                                         const std::function<void(const domain::ExportRecord&)>& fn) {
    domain::ExportRecord r;
    return page(Stmt::EXPORT_SEL_ROW_PAGE, form_type, filter, after, limit, [&](sql::ResultSet& rs) {
        r.change_id = rs.getInt64(1);
        r.observation_id = rs.getString(2);
        r.form_version = rs.getString(3);
        r.created_at = nullable(rs, 4);
        r.updated_at = nullable(rs, 5);
        r.synced_at = rs.getString(6);
        r.deleted = rs.getInt(7) != 0;
        r.geolocation = nullable(rs, 8);
        r.last_modified_by = rs.getString(9);
        r.data = rs.getString(10);
        fn(r);
    });
}

// Outside the snapshot: each of these is its own autocommitted statement.
void ExportRepository::insert_link(const std::string& token_hash, const std::string& format, const std::string& params,
                                   const std::string& created_by, int64_t expires_at) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::EXPORT_LINK_INS);
        ps.setString(1, token_hash);
        ps.setString(2, format);
        ps.setString(3, params);
        ps.setString(4, created_by);
        ps.setInt64(5, expires_at);
        ps.executeUpdate();
        db_.stmt(Stmt::EXPORT_LINK_DEL_EXPIRED).executeUpdate();
    });
}

// The UPDATE takes the row's exclusive lock and re-checks used_at IS NULL under it,
// so of any number of concurrent claims (any worker, any host on the same database
// or Galera cluster, where the losing writer's commit fails certification) exactly
// one sees one affected row. Not retried on a lost connection: a claim that may
// have committed must not be tried twice and answered as unused.
bool ExportRepository::claim_link(const std::string& token_hash) {
    return in_snapshot([&] {
        auto& ps = db_.stmt(Stmt::EXPORT_LINK_CLAIM);
        ps.setString(1, token_hash);
        return ps.executeUpdate() == 1;
    });
}

std::optional<std::pair<std::string, std::string>> ExportRepository::find_link(const std::string& token_hash) {
    std::optional<std::pair<std::string, std::string>> found;
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::EXPORT_LINK_SEL);
        ps.setString(1, token_hash);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        found.reset();
        if (rs->next()) found.emplace(std::string(rs->getString(1)), std::string(rs->getString(2)));
    });
    return found;
}

}  // namespace db
