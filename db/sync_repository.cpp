#include "db/sync_repository.h"
#include "db/sql.h"

#include <algorithm>
#include <memory>


#include "core/time_util.h"
#include "db/change_counter.h"

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

// created_at, updated_at, geolocation from column `first` on.
domain::ObservationFields read_fields(sql::ResultSet& rs, unsigned first) {
    return {nullable_string(rs, first), nullable_string(rs, first + 1), nullable_string(rs, first + 2)};
}

}  // namespace

std::string sql_datetime_ms(int64_t ms) {
    std::string s = core::rfc3339_ms(ms);  // 2026-11-28T21:09:34.123Z
    s[10] = ' ';
    s.pop_back();
    return s;
}

StoredRecord read_stored_record(sql::ResultSet& rs) {
    StoredRecord r;
    r.id = rs.getString(1);
    r.schema_type = rs.getString(2);
    r.schema_version = rs.getString(3);
    r.data = rs.getString(4);
    r.hash = rs.getString(5);
    r.deleted = rs.getInt(6) != 0;
    r.change_id = rs.getInt64(7);
    std::string lm = rs.getString(8);  // microseconds: keep milliseconds
    if (lm.size() > 24) lm = lm.substr(0, 23) + "Z";
    r.last_modified = std::move(lm);
    r.last_modified_by = rs.getString(9);
    r.origin_client_id = rs.getString(10);
    r.fields = read_fields(rs, 11);
    return r;
}


void SyncRepository::claim_transmission(const std::string& transmission_id, const std::string& fingerprint,
                                        int64_t expires_at) {
    auto& tx = tx_.stmt(Stmt::SYNC_TX_INS);
    tx.setString(1, transmission_id);
    tx.setString(2, fingerprint);
    tx.setInt64(3, expires_at);
    tx.executeUpdate();
}

std::optional<StoredTransmission> SyncRepository::find_transmission(const std::string& transmission_id) {
    auto& sel = tx_.stmt(Stmt::SYNC_TX_SEL);
    sel.setString(1, transmission_id);
    RS rs(sel.executeQuery());
    if (!rs->next()) return std::nullopt;
    return StoredTransmission{rs->getString(1), rs->getString(2), rs->getInt64(3)};
}

void SyncRepository::delete_transmission_if_expired(const std::string& transmission_id) {
    auto& del = tx_.stmt(Stmt::SYNC_TX_DEL_ONE_EXPIRED);
    del.setString(1, transmission_id);
    del.executeUpdate();
}

void SyncRepository::store_response(const std::string& transmission_id, const std::string& response) {
    auto& set = tx_.stmt(Stmt::SYNC_TX_SET_RESPONSE);
    set.setString(1, response);
    set.setString(2, transmission_id);
    set.executeUpdate();
}

void SyncRepository::delete_expired_transmissions() { tx_.stmt(Stmt::SYNC_TX_DEL_EXPIRED).executeUpdate(); }

int64_t SyncRepository::lock_counter() { return lock_change_counter(tx_); }

int64_t SyncRepository::read_counter() { return read_change_counter(tx_); }

void SyncRepository::set_counter(int64_t last_change_id) { set_change_counter(tx_, last_change_id); }

std::map<std::string, domain::StoredState> SyncRepository::lock_records(const std::vector<std::string>& ids) {
    std::map<std::string, domain::StoredState> stored;
    for (size_t off = 0; off < ids.size();) {
        const size_t size = size_for(kSyncLockSizes, ids.size() - off);
        const size_t n = std::min(size, ids.size() - off);
        auto& ps = tx_.stmt(sync_stmt(SyncBatch::lock, size));
        for (size_t i = 0; i < size; ++i) ps.setString(static_cast<unsigned>(i + 1), i < n ? ids[off + i] : "");
        RS rs(ps.executeQuery());
        while (rs->next())
            stored[rs->getString(1)] = domain::StoredState{rs->getString(2), rs->getInt(3) != 0, read_fields(*rs, 4), rs->getString(7)};
        off += n;
    }
    return stored;
}

void SyncRepository::keep_overwritten(const domain::OverwrittenVersion& v, const PushOrigin& origin,
                                      int64_t overwritten_change_id) {
    auto& ins = tx_.stmt(Stmt::SYNC_CONFLICT_INS);
    ins.setString(1, v.client_hash.substr(0, 255));
    ins.setString(2, origin.username);
    ins.setString(3, origin.client_id);
    ins.setInt64(4, overwritten_change_id);
    ins.setString(5, v.id);
    ins.executeUpdate();
}

void SyncRepository::upsert(const std::vector<domain::PushWrite>& records, int64_t first_change_id,
                            const PushOrigin& origin) {
    const std::string modified = sql_datetime_ms(origin.now_ms);
    int64_t change_id = first_change_id;
    size_t done = 0;
    // Largest sizes first: a 137-record push is 100 + 25 + 5 + 5 + 1 + 1.
    for (auto it = std::rbegin(kSyncUpsertSizes); it != std::rend(kSyncUpsertSizes); ++it) {
        const size_t size = *it;
        while (records.size() - done >= size) {
            auto& ps = tx_.stmt(sync_stmt(SyncBatch::upsert, size));
            unsigned p = 1;
            for (size_t i = 0; i < size; ++i) {
                const auto& r = *records[done + i].record;
                const auto& f = records[done + i].fields;
                ps.setString(p++, r.id);
                ps.setString(p++, r.schema_type);
                ps.setString(p++, r.schema_version);
                ps.setString(p++, r.data_json);
                ps.setString(p++, r.hash);
                ps.setInt(p++, r.deleted ? 1 : 0);
                ps.setInt64(p++, change_id++);
                ps.setString(p++, modified);
                ps.setString(p++, origin.username);
                ps.setString(p++, origin.client_id);
                set_nullable(ps, p++, f.created_at);
                set_nullable(ps, p++, f.updated_at);
                set_nullable(ps, p++, f.geolocation);
            }
            ps.executeUpdate();
            done += size;
        }
    }
}

void SyncRepository::add_record_counts(const std::vector<domain::CountChange>& changes) {
    for (const auto& c : changes) {
        auto& ps = tx_.stmt(Stmt::RECORD_COUNTS_ADD);
        ps.setString(1, c.form_type);
        ps.setInt(2, c.deleted ? 1 : 0);
        ps.setInt64(3, c.records);
        ps.executeUpdate();
    }
}

std::vector<StoredRecord> SyncRepository::read_changes(int64_t after, int64_t upto,
                                                       const std::vector<std::string>& types, size_t limit) {
    std::vector<StoredRecord> out;
    out.reserve(limit);
    const int fetch = static_cast<int>(limit);
    if (types.empty()) {
        auto& ps = tx_.stmt(Stmt::SYNC_PULL_ALL);
        ps.setInt64(1, after);
        ps.setInt64(2, upto);
        ps.setInt(3, fetch);
        RS rs(ps.executeQuery());
        while (rs->next()) out.push_back(read_stored_record(*rs));
        return out;
    }
    // Up to the largest filter size in one statement (the usual case); a longer filter
    // goes in parts whose pages are merged by change_id, each part bounded by `limit`.
    constexpr size_t most = std::end(kSyncFilterSizes)[-1];
    for (size_t off = 0; off < types.size(); off += most) {
        const size_t n = std::min(most, types.size() - off);
        const size_t size = size_for(kSyncFilterSizes, n);
        auto& ps = tx_.stmt(sync_stmt(SyncBatch::filter, size));
        unsigned p = 1;
        for (size_t i = 0; i < size; ++i) {
            ps.setString(p++, i < n ? types[off + i] : "");
            ps.setInt64(p++, after);
            ps.setInt64(p++, upto);
            ps.setInt(p++, fetch);
        }
        ps.setInt(p++, fetch);
        RS rs(ps.executeQuery());
        while (rs->next()) out.push_back(read_stored_record(*rs));
    }
    if (types.size() > most) {
        std::sort(out.begin(), out.end(),
                  [](const StoredRecord& a, const StoredRecord& b) { return a.change_id < b.change_id; });
        if (out.size() > limit) out.resize(limit);
    }
    return out;
}

}  // namespace db
