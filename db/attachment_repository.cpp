// Why the manifest's since_version cursor never skips
// ----------------------------------------------------
// An upload or a deletion takes its version from the same counter row as record
// pushes (sync_counter, db/change_counter.h; the argument for records is at the
// top of services/sync_service.cpp). In one transaction it locks that row (SELECT ... FOR
// UPDATE), writes the attachment row with version = counter + 1, raises the
// counter and commits: the row and the raised counter become visible together,
// and writers commit one at a time in version order. A manifest reads the counter
// and then the rows with version <= that counter in one transaction, i.e. one
// snapshot: if it sees counter C it sees every row whose version is <= C, so the
// current_version C it hands out never passes a change it did not list. A version
// taken in its own autocommit statement before the row is written would break
// this: a manifest could see the raised counter without the row, and the client
// would store a cursor past it (tests/integration/test_attachments.py shows it).
#include "db/attachment_repository.h"

#include <memory>

#include "db/change_counter.h"

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

AttachmentRow read_row(sql::ResultSet& rs) {
    return AttachmentRow{rs.getString(1), rs.getString(2), rs.getInt64(3), rs.getString(4), rs.getInt(5) != 0,
                         rs.getInt64(6)};
}

std::optional<AttachmentRow> select_one(Database& db, Stmt which, const std::string& id) {
    auto& ps = db.stmt(which);
    ps.setString(1, id);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return read_row(*rs);
}

bool sha_is_live(Database& db, const std::string& sha256) {
    auto& ps = db.stmt(Stmt::ATT_COUNT_LIVE_BY_SHA);
    ps.setString(1, sha256);
    RS rs(ps.executeQuery());
    return rs->next() && rs->getInt64(1) > 0;
}

}  // namespace

std::optional<AttachmentRow> AttachmentRepository::find(const std::string& id) {
    std::optional<AttachmentRow> out;
    db_.run([&] { out = select_one(db_, Stmt::ATT_SEL_ONE, id); });
    return out;
}

AttachmentRepository::PutResult AttachmentRepository::put(const AttachmentRow& row, const std::string& by,
                                                          const std::function<void()>& place) {
    PutResult result = PutResult::stored;
    db_.transaction([&] {
        const int64_t version = lock_change_counter(db_) + 1;
        auto existing = select_one(db_, Stmt::ATT_SEL_ONE_FOR_UPDATE, row.attachment_id);
        if (existing && !existing->deleted) {
            result = existing->sha256 == row.sha256 ? PutResult::unchanged : PutResult::conflict;
            return;
        }
        place();
        auto& ps = db_.stmt(Stmt::ATT_UPSERT);
        ps.setString(1, row.attachment_id);
        ps.setString(2, row.sha256);
        ps.setInt64(3, row.size);
        ps.setString(4, row.content_type);
        ps.setInt64(5, version);
        ps.setString(6, by);
        ps.executeUpdate();
        set_change_counter(db_, version);
        // The bytes are live again: a pending removal of the same file is void.
        auto& unretire = db_.stmt(Stmt::ATT_RETIRED_DEL);
        unretire.setString(1, row.sha256);
        unretire.executeUpdate();
        result = PutResult::stored;
    });
    return result;
}

bool AttachmentRepository::remove(const std::string& id, const std::string& by) {
    bool removed = false;
    db_.transaction([&] {
        removed = false;
        const int64_t version = lock_change_counter(db_) + 1;
        auto existing = select_one(db_, Stmt::ATT_SEL_ONE_FOR_UPDATE, id);
        if (!existing || existing->deleted) return;
        auto& ps = db_.stmt(Stmt::ATT_MARK_DELETED);
        ps.setInt64(1, version);
        ps.setString(2, by);
        ps.setString(3, id);
        ps.executeUpdate();
        set_change_counter(db_, version);
        if (!sha_is_live(db_, existing->sha256)) {
            auto& ret = db_.stmt(Stmt::ATT_RETIRED_INS);
            ret.setString(1, existing->sha256);
            ret.executeUpdate();
        }
        removed = true;
    });
    return removed;
}

AttachmentRepository::Changes AttachmentRepository::changes_since(int64_t since) {
    Changes out;
    // A transaction only for its snapshot: the counter and the rows are read in one.
    db_.transaction([&] {
        out = {};
        out.current_version = read_change_counter(db_);
        auto& ps = db_.stmt(Stmt::ATT_SEL_CHANGES);
        ps.setInt64(1, since);
        ps.setInt64(2, out.current_version);
        RS rs(ps.executeQuery());
        while (rs->next()) out.rows.push_back(read_row(*rs));
    });
    return out;
}

std::vector<AttachmentRow> AttachmentRepository::live() {
    std::vector<AttachmentRow> out;
    db_.run([&] {
        out.clear();
        RS rs(db_.stmt(Stmt::ATT_SEL_LIVE).executeQuery());
        while (rs->next()) out.push_back(read_row(*rs));
    });
    return out;
}

bool AttachmentRepository::referenced(const std::string& id) {
    bool found = false;
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::ATT_REFERENCED);
        ps.setString(1, id);
        RS rs(ps.executeQuery());
        found = rs->next();
    });
    return found;
}

std::vector<std::string> AttachmentRepository::retired_due(int64_t grace_seconds) {
    std::vector<std::string> out;
    db_.run([&] {
        out.clear();
        auto& ps = db_.stmt(Stmt::ATT_RETIRED_SEL_DUE);
        ps.setInt64(1, grace_seconds);
        RS rs(ps.executeQuery());
        while (rs->next()) out.push_back(rs->getString(1));
    });
    return out;
}

void AttachmentRepository::retire_file(const std::string& sha256, const std::function<void()>& remove_file) {
    db_.transaction([&] {
        lock_change_counter(db_);  // only the lock: uploads place files under it
        if (!sha_is_live(db_, sha256)) remove_file();
        auto& del = db_.stmt(Stmt::ATT_RETIRED_DEL);
        del.setString(1, sha256);
        del.executeUpdate();
    });
}

}  // namespace db
