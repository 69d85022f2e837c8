#include "db/export_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

std::optional<std::string> ExportRepository::next_form_type(const std::optional<std::string>& after) {
    auto& ps = tx_.stmt(after ? Stmt::EXPORT_NEXT_TYPE : Stmt::EXPORT_FIRST_TYPE);
    if (after) ps.setString(1, *after);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return nullable_string(*rs, 1);
}

ExportPage ExportRepository::page(Stmt which, const std::string& form_type, const domain::ExportFilter& filter,
                                  const ExportCursor& after, int limit,
                                  const std::function<void(sql::ResultSet&)>& row) {
    auto& ps = tx_.stmt(which);
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
        r.created_at = nullable_string(rs, 4);
        r.updated_at = nullable_string(rs, 5);
        r.synced_at = rs.getString(6);
        r.deleted = rs.getInt(7) != 0;
        r.geolocation = nullable_string(rs, 8);
        r.last_modified_by = rs.getString(9);
        r.data = rs.getString(10);
        fn(r);
    });
}

void ExportRepository::insert_link(const std::string& token_hash, const std::string& format, const std::string& params,
                                   const std::string& created_by, int64_t expires_at) {
    auto& ps = tx_.stmt(Stmt::EXPORT_LINK_INS);
    ps.setString(1, token_hash);
    ps.setString(2, format);
    ps.setString(3, params);
    ps.setString(4, created_by);
    ps.setInt64(5, expires_at);
    ps.executeUpdate();
    tx_.stmt(Stmt::EXPORT_LINK_DEL_EXPIRED).executeUpdate();
}

// The UPDATE takes the row's exclusive lock and re-checks used_at IS NULL under it,
// so of any number of concurrent claims (any worker, any host on the same database
// or Galera cluster, where the losing writer's commit fails certification) exactly
// one sees one affected row.
bool ExportRepository::claim_link(const std::string& token_hash) {
    auto& ps = tx_.stmt(Stmt::EXPORT_LINK_CLAIM);
    ps.setString(1, token_hash);
    return ps.executeUpdate() == 1;
}

std::optional<ExportRepository::StoredLink> ExportRepository::find_link(const std::string& token_hash) {
    auto& ps = tx_.stmt(Stmt::EXPORT_LINK_SEL);
    ps.setString(1, token_hash);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return StoredLink{rs->getString(1), rs->getString(2), rs->getInt(3) != 0};
}

}  // namespace db
