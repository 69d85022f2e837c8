#include "db/device_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

// Presence deltas say "none" with 0 (times) and "" (generation): stored as NULL.
std::optional<int64_t> unless_zero(int64_t ms) { return ms > 0 ? std::optional<int64_t>(ms) : std::nullopt; }
std::optional<std::string> unless_empty(const std::string& v) {
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
}

}  // namespace

bool DeviceRepository::write(const PresenceDelta& d, int64_t interval_ms) {
    auto& up = tx_.stmt(Stmt::PRESENCE_UPD);
    up.setInt64(1, d.last_seen_ms);
    set_nullable(up, 2, unless_empty(d.generation));
    set_nullable(up, 3, unless_zero(d.last_pull_ms));
    set_nullable(up, 4, d.cursor);
    up.setInt64(5, d.last_seen_ms);
    set_nullable(up, 6, unless_zero(d.last_push_ms));
    set_nullable(up, 7, unless_zero(d.last_push_ms));
    set_nullable(up, 8, unless_zero(d.last_pull_ms));
    set_nullable(up, 9, unless_zero(d.last_pull_ms));
    up.setInt64(10, d.pushes);
    up.setInt64(11, d.records_pushed);
    up.setString(12, d.username);
    up.setString(13, d.client_id);
    up.setInt64(14, interval_ms);
    if (up.executeUpdate() > 0) return true;
    auto& ins = tx_.stmt(Stmt::PRESENCE_INS);
    ins.setString(1, d.client_id);
    ins.setString(2, d.username);
    set_nullable(ins, 3, unless_empty(d.generation));
    ins.setInt64(4, d.first_seen_ms);
    ins.setInt64(5, d.last_seen_ms);
    set_nullable(ins, 6, unless_zero(d.last_push_ms));
    set_nullable(ins, 7, unless_zero(d.last_pull_ms));
    set_nullable(ins, 8, d.cursor);
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
        r.last_push_at = nullable_string(*rs, 6);
        r.last_pull_at = nullable_string(*rs, 7);
        r.cursor = nullable_int(*rs, 8);
        r.pushes = rs->getInt64(9);
        r.records_pushed = rs->getInt64(10);
        r.sort_key = rs->getString(11);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace db
