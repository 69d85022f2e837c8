#include "db/record_admin_repository.h"

#include <algorithm>
#include <memory>

#include "db/sql.h"
#include "db/sync_repository.h"

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {


// Runs the id-list statement of `kind` over `ids` in padded batches; `first` binds
// the parameters before the ids and returns how many it bound.
template <typename Bind>
void for_id_batches(Tx& tx, RefsBatch kind, const std::vector<std::string>& ids, Bind first) {
    for (size_t off = 0; off < ids.size();) {
        const size_t size = size_for(kSyncLockSizes, ids.size() - off);
        const size_t n = std::min(size, ids.size() - off);
        auto& ps = tx.stmt(refs_stmt(kind, size));
        unsigned p = first(ps) + 1;
        for (size_t i = 0; i < size; ++i) ps.setString(p++, i < n ? ids[off + i] : "");
        ps.executeUpdate();
        off += n;
    }
}

void bind_pair(sql::PreparedStatement& ps, unsigned& p, const std::optional<std::string>& v) {
    if (v) {
        ps.setString(p++, *v);
        ps.setString(p++, *v);
    } else {
        ps.setNull(p++, sql::DataType::VARCHAR);
        ps.setNull(p++, sql::DataType::VARCHAR);
    }
}

}  // namespace

void RecordAdminRepository::keep_history(const std::vector<std::string>& ids, const char* replaced_by,
                                         int64_t now_ms) {
    const std::string at = sql_datetime_ms(now_ms);
    for_id_batches(tx_, RefsBatch::history, ids, [&](sql::PreparedStatement& ps) {
        ps.setString(1, replaced_by);
        ps.setString(2, at);
        return 2u;
    });
}

void RecordAdminRepository::replace_refs(const std::vector<std::string>& existing,
                                         const std::vector<std::pair<std::string, std::vector<std::string>>>& records) {
    for_id_batches(tx_, RefsBatch::delete_refs, existing, [](sql::PreparedStatement&) { return 0u; });
    std::vector<std::pair<const std::string*, const std::string*>> rows;  // (attachment, record)
    for (const auto& [record, atts] : records)
        for (const auto& a : atts) rows.emplace_back(&a, &record);
    size_t done = 0;
    for (auto it = std::rbegin(kSyncUpsertSizes); it != std::rend(kSyncUpsertSizes); ++it) {
        const size_t size = *it;
        while (rows.size() - done >= size) {
            auto& ps = tx_.stmt(refs_stmt(RefsBatch::insert_refs, size));
            unsigned p = 1;
            for (size_t i = 0; i < size; ++i) {
                ps.setString(p++, *rows[done + i].first);
                ps.setString(p++, *rows[done + i].second);
            }
            ps.executeUpdate();
            done += size;
        }
    }
}

void RecordAdminRepository::delete_old_history(int64_t days) {
    auto& del = tx_.stmt(Stmt::HIST_DEL_OLD);
    del.setInt64(1, days);
    del.executeUpdate();
}

std::vector<StoredRecord> RecordAdminRepository::records(const RecordFilter& f, const RecordCursor& cursor,
                                                         int limit) {
    // The driving index: a time filter, else the first equality filter given, else
    // change_id alone (db/statements.cpp).
    Stmt id = Stmt::ADMIN_RECORDS_ALL;
    std::optional<std::string> driver;
    if (f.by_time()) id = Stmt::ADMIN_RECORDS_BY_SYNCED;
    else if (f.form_type) id = Stmt::ADMIN_RECORDS_BY_TYPE, driver = f.form_type;
    else if (f.client_id) id = Stmt::ADMIN_RECORDS_BY_CLIENT, driver = f.client_id;
    else if (f.username) id = Stmt::ADMIN_RECORDS_BY_USER, driver = f.username;
    else if (f.deleted) id = Stmt::ADMIN_RECORDS_BY_DELETED, driver = *f.deleted ? "1" : "0";
    auto& ps = tx_.stmt(id);
    unsigned p = 1;
    if (driver) ps.setString(p++, *driver);
    if (id == Stmt::ADMIN_RECORDS_BY_SYNCED) {
        ps.setString(p++, cursor.synced_at);
        ps.setString(p++, cursor.synced_at);
    }
    ps.setInt64(p++, cursor.change_id);
    bind_pair(ps, p, f.form_type);
    bind_pair(ps, p, f.client_id);
    bind_pair(ps, p, f.username);
    bind_pair(ps, p, f.deleted ? std::optional<std::string>(*f.deleted ? "1" : "0") : std::nullopt);
    bind_pair(ps, p, f.changed_after);
    bind_pair(ps, p, f.changed_before);
    ps.setInt(p++, limit);
    RS rs(ps.executeQuery());
    std::vector<StoredRecord> out;
    while (rs->next()) out.push_back(read_stored_record(*rs));
    return out;
}

std::optional<StoredRecord> RecordAdminRepository::record(const std::string& id) {
    auto& ps = tx_.stmt(Stmt::ADMIN_RECORD_SEL_ONE);
    ps.setString(1, id);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return read_stored_record(*rs);
}

std::vector<HistoryRow> RecordAdminRepository::history(const std::string& id, int limit) {
    auto& ps = tx_.stmt(Stmt::HIST_SEL_RECORD);
    ps.setString(1, id);
    ps.setInt(2, limit);
    RS rs(ps.executeQuery());
    std::vector<HistoryRow> out;
    while (rs->next()) {
        HistoryRow h;
        h.change_id = rs->getInt64(1);
        h.hash = rs->getString(2);
        h.deleted = rs->getInt(3) != 0;
        h.data = rs->getString(4);
        h.created_at = nullable_string(*rs, 5);
        h.updated_at = nullable_string(*rs, 6);
        h.geolocation = nullable_string(*rs, 7);
        h.modified_by = rs->getString(8);
        h.client_id = rs->getString(9);
        h.synced_at = rs->getString(10);
        h.replaced_by = rs->getString(11);
        out.push_back(std::move(h));
    }
    return out;
}

std::vector<AdminAttachmentRow> RecordAdminRepository::attachments(bool unreferenced_only, int64_t before_version,
                                                                   int limit) {
    auto& ps = tx_.stmt(unreferenced_only ? Stmt::ADMIN_ATT_PAGE_UNREFERENCED : Stmt::ADMIN_ATT_PAGE);
    ps.setInt64(1, before_version);
    ps.setInt(2, limit);
    RS rs(ps.executeQuery());
    std::vector<AdminAttachmentRow> out;
    while (rs->next()) {
        AdminAttachmentRow a;
        a.attachment_id = rs->getString(1);
        a.size = rs->getInt64(2);
        a.content_type = rs->getString(3);
        a.sha256 = rs->getString(4);
        a.uploaded_by = rs->getString(5);
        a.uploaded_at = rs->getString(6);
        a.version = rs->getInt64(7);
        a.references = rs->getInt64(8);
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<std::string> RecordAdminRepository::referencing_records(const std::string& attachment_id, int limit) {
    auto& ps = tx_.stmt(Stmt::REFS_SEL_BY_ATTACHMENT);
    ps.setString(1, attachment_id);
    ps.setInt(2, limit);
    RS rs(ps.executeQuery());
    std::vector<std::string> out;
    while (rs->next()) out.push_back(rs->getString(1));
    return out;
}

std::optional<bool> RecordAdminRepository::attachment_present(const std::string& attachment_id) {
    auto& ps = tx_.stmt(Stmt::ATT_SEL_ONE);
    ps.setString(1, attachment_id);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return rs->getInt(5) == 0;
}

}  // namespace db
