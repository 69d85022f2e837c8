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

ExportPage ExportRepository::page(Stmt which, const std::string& form_type, int64_t after, int limit,
                                  const std::function<void(sql::ResultSet&)>& row) {
    auto& ps = tx_.stmt(which);
    ps.setString(1, form_type);
    ps.setInt64(2, after);
    ps.setInt(3, limit);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    ExportPage page;
    while (rs->next()) {
        page.last_change_id = rs->getInt64(1);  // both statements start with change_id
        ++page.rows;
        row(*rs);
    }
    return page;
}

ExportPage ExportRepository::data_page(const std::string& form_type, int64_t after, int limit,
                                       const std::function<void(std::string_view)>& fn) {
    return page(Stmt::EXPORT_SEL_DATA_PAGE, form_type, after, limit, [&](sql::ResultSet& rs) {
        sql::SQLString data = rs.getString(2);
        fn(std::string_view(data.c_str(), data.length()));
    });
}

ExportPage ExportRepository::record_page(const std::string& form_type, int64_t after, int limit,
                                         const std::function<void(const domain::ExportRecord&)>& fn) {
    domain::ExportRecord r;
    return page(Stmt::EXPORT_SEL_ROW_PAGE, form_type, after, limit, [&](sql::ResultSet& rs) {
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

}  // namespace db
