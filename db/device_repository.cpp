#include "db/device_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {
void set_ms(sql::PreparedStatement& ps, int i, int64_t ms) {
    if (ms > 0) ps.setInt64(i, ms);
    else ps.setNull(i, sql::DataType::BIGINT);
}
void set_opt(sql::PreparedStatement& ps, int i, const std::optional<int64_t>& v) {
    if (v) ps.setInt64(i, *v);
    else ps.setNull(i, sql::DataType::BIGINT);
}
void set_text(sql::PreparedStatement& ps, int i, const std::string& v) {
    if (!v.empty()) ps.setString(i, v);
    else ps.setNull(i, sql::DataType::VARCHAR);
}
std::optional<std::string> opt_str(sql::ResultSet& rs, int i) {
    if (rs.isNull(i)) return std::nullopt;
    return rs.getString(i);
}
}  // namespace

bool DeviceRepository::write(const PresenceDelta& d, int64_t interval_ms) {
    auto& up = tx_.stmt(Stmt::PRESENCE_UPD);
    up.setInt64(1, d.last_seen_ms);
    set_text(up, 2, d.generation);
    set_ms(up, 3, d.last_pull_ms);
    set_opt(up, 4, d.cursor);
    up.setInt64(5, d.last_seen_ms);
    set_ms(up, 6, d.last_push_ms);
    set_ms(up, 7, d.last_push_ms);
    set_ms(up, 8, d.last_pull_ms);
    set_ms(up, 9, d.last_pull_ms);
    up.setInt64(10, d.pushes);
    up.setInt64(11, d.records_pushed);
    up.setString(12, d.username);
    up.setString(13, d.client_id);
    up.setInt64(14, interval_ms);
    if (up.executeUpdate() > 0) return true;
    auto& ins = tx_.stmt(Stmt::PRESENCE_INS);
    ins.setString(1, d.client_id);
    ins.setString(2, d.username);
    set_text(ins, 3, d.generation);
    ins.setInt64(4, d.first_seen_ms);
    ins.setInt64(5, d.last_seen_ms);
    set_ms(ins, 6, d.last_push_ms);
    set_ms(ins, 7, d.last_pull_ms);
    set_opt(ins, 8, d.cursor);
    ins.setInt64(9, d.pushes);
    ins.setInt64(10, d.records_pushed);
    // 0 rows: the row exists and was written within the interval.
    return ins.executeUpdate() > 0;
}

std::vector<DeviceRow> DeviceRepository::page(const std::optional<std::pair<std::string, std::string>>& after,
                                              int limit) {
    std::vector<DeviceRow> out;
    out.clear();
    auto& ps = tx_.stmt(after ? Stmt::PRESENCE_SEL_AFTER : Stmt::PRESENCE_SEL_FIRST);
    int i = 1;
    if (after) {
        ps.setString(i++, after->first);
        ps.setString(i++, after->first);
        ps.setString(i++, after->second);
    }
    ps.setInt(i, limit);
    RS rs(ps.executeQuery());
    while (rs->next()) {
        DeviceRow r;
        r.client_id = rs->getString(1);
        r.username = rs->getString(2);
        r.generation = rs->getString(3);
        r.first_seen = rs->getString(4);
        r.last_seen = rs->getString(5);
        r.last_push_at = opt_str(*rs, 6);
        r.last_pull_at = opt_str(*rs, 7);
        if (!rs->isNull(8)) r.cursor = rs->getInt64(8);
        r.pushes = rs->getInt64(9);
        r.records_pushed = rs->getInt64(10);
        r.sort_key = rs->getString(11);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace db
