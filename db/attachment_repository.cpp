#include "db/attachment_repository.h"
#include "db/sql.h"

#include <memory>


namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

AttachmentRow read_row(sql::ResultSet& rs) {
    return AttachmentRow{rs.getString(1), rs.getString(2), rs.getInt64(3), rs.getString(4), rs.getInt(5) != 0,
                         rs.getInt64(6)};
}

std::optional<AttachmentRow> select_one(Tx& tx, Stmt which, const std::string& id) {
    auto& ps = tx.stmt(which);
    ps.setString(1, id);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return read_row(*rs);
}

}  // namespace

std::optional<AttachmentRow> AttachmentRepository::find(const std::string& id) {
    return select_one(tx_, Stmt::ATT_SEL_ONE, id);
}

std::optional<AttachmentRow> AttachmentRepository::find_for_update(const std::string& id) {
    return select_one(tx_, Stmt::ATT_SEL_ONE_FOR_UPDATE, id);
}

void AttachmentRepository::mark_deleted(const std::string& id, int64_t version, const std::string& by) {
    auto& ps = tx_.stmt(Stmt::ATT_MARK_DELETED);
    ps.setInt64(1, version);
    ps.setString(2, by);
    ps.setString(3, id);
    ps.executeUpdate();
}

void AttachmentRepository::add_to_totals(int64_t attachments, int64_t bytes) {
    auto& ps = tx_.stmt(Stmt::ATT_TOTALS_ADD);
    ps.setInt64(1, attachments);
    ps.setInt64(2, bytes);
    ps.executeUpdate();
}

bool AttachmentRepository::raise_counter_and_totals(int64_t attachments, int64_t bytes) {
    auto& ps = tx_.stmt(Stmt::ATT_RAISE_COUNTER_AND_TOTALS);
    ps.setInt64(1, attachments);
    ps.setInt64(2, bytes);
    return ps.executeUpdate() > 0;
}

bool AttachmentRepository::insert_if_not_live(const AttachmentRow& row, const std::string& by) {
    auto& ps = tx_.stmt(Stmt::ATT_INSERT_IF_NOT_LIVE);
    ps.setString(1, row.attachment_id);
    ps.setString(2, row.sha256);
    ps.setInt64(3, row.size);
    ps.setString(4, row.content_type);
    ps.setString(5, by);
    // 1 inserted, 2 a deleted row made live; 0 a live row left as it was (the
    // connection does not ask for CLIENT_FOUND_ROWS, which would count it as 1).
    return ps.executeUpdate() > 0;
}

bool AttachmentRepository::put_if_not_live(const AttachmentRow& row, const std::string& by, bool begin) {
    auto& ps = tx_.stmt(Stmt::ATT_PUT);
    ps.setInt(1, begin ? 1 : 0);
    ps.setString(2, row.attachment_id);
    ps.setString(3, row.sha256);
    ps.setInt64(4, row.size);
    ps.setString(5, row.content_type);
    ps.setString(6, by);
    // The INSERT's affected rows, counted as in insert_if_not_live (the CALL's own
    // count would add the UPDATE's).
    RS rs(ps.executeQuery());
    if (!rs->next()) throw Error(ErrorKind::other, 0, "attachment_put answered no row");
    const bool changed = rs->getInt(1) > 0;
    // A CALL ends with a status result after its rows: read here (getMoreResults
    // answers false once it has), or the connection's next statement fails with
    // "Commands out of sync" (2014).
    rs.reset();
    while (ps.getMoreResults()) {
    }
    return changed;
}

bool AttachmentRepository::sha_is_live(const std::string& sha256) {
    auto& ps = tx_.stmt(Stmt::ATT_COUNT_LIVE_BY_SHA);
    ps.setString(1, sha256);
    RS rs(ps.executeQuery());
    return rs->next() && rs->getInt64(1) > 0;
}

std::vector<AttachmentRow> AttachmentRepository::changes(int64_t since, int64_t upto) {
    std::vector<AttachmentRow> out;
    auto& ps = tx_.stmt(Stmt::ATT_SEL_CHANGES);
    ps.setInt64(1, since);
    ps.setInt64(2, upto);
    RS rs(ps.executeQuery());
    while (rs->next()) out.push_back(read_row(*rs));
    return out;
}

std::vector<AttachmentRow> AttachmentRepository::live() {
    std::vector<AttachmentRow> out;
    RS rs(tx_.stmt(Stmt::ATT_SEL_LIVE).executeQuery());
    while (rs->next()) out.push_back(read_row(*rs));
    return out;
}

bool AttachmentRepository::referenced(const std::string& id) {
    auto& ps = tx_.stmt(Stmt::ATT_REFERENCED);
    ps.setString(1, id);
    RS rs(ps.executeQuery());
    return rs->next();
}

void AttachmentRepository::retire_file(const std::string& sha256) {
    auto& ps = tx_.stmt(Stmt::ATT_RETIRED_INS);
    ps.setString(1, sha256);
    ps.executeUpdate();
}

void AttachmentRepository::forget_retired_file(const std::string& sha256) {
    auto& ps = tx_.stmt(Stmt::ATT_RETIRED_DEL);
    ps.setString(1, sha256);
    ps.executeUpdate();
}

std::vector<std::string> AttachmentRepository::retired_due(int64_t grace_seconds) {
    std::vector<std::string> out;
    auto& ps = tx_.stmt(Stmt::ATT_RETIRED_SEL_DUE);
    ps.setInt64(1, grace_seconds);
    RS rs(ps.executeQuery());
    while (rs->next()) out.push_back(rs->getString(1));
    return out;
}

}  // namespace db
