// How change_id never skips
// -------------------------
// A puller stores the change_cutoff it was given and later asks for change_id > it.
// That is safe only if no transaction can ever commit a change_id at or below a
// value some reader has already seen. A plain AUTO_INCREMENT breaks this: push A
// takes id 10, push B takes 11 and commits first, a pull returns 11 and its cursor
// moves past 10, then A commits 10, which that client never sees.
//
// Here change ids come from one counter row (sync_counter). A push locks that row
// (SELECT ... FOR UPDATE) before it writes records, and the lock is held to
// COMMIT, where the records and the raised counter become visible together. So
// pushes that change records commit one at a time in change_id order, and any
// snapshot that sees counter = C also sees every record with change_id <= C. A
// pull reads the counter first and then only records up to it, so it never
// returns, or advances a cursor past, anything above a committed counter value.
//
// The serialized part is kept to the database work of one push: parsing, JSON
// validation, canonicalization and hashing are done before the transaction starts,
// the transmission row is claimed before the counter lock, and the writes are a
// batched primary-key read and multi-row upserts. Pushes that carry no valid records (all
// records invalid) do not take the lock at all.
//
// On a Galera cluster (several hosts, each writing to its own node)
// ------------------------------------------------------------------
// The counter row's FOR UPDATE lock is local to one node: two pushes on two nodes
// both take it, both read counter = C and both write ids C+1... But both also
// UPDATE the counter row, so their write-sets carry the same key, and certification
// (run by every node in the same global order) commits the first and fails the
// second with errno 1213; db::Database::transaction reruns it (bounded, jittered),
// and the rerun reads C+n from the counter. A push whose write-set was certified
// after another push's therefore read that push's counter value: commit order
// equals counter order, cluster-wide, just as on one server.
//
// Every node applies (and commits) write-sets in that global order, also with
// several applier threads (commit order is enforced), so what a node shows at any
// moment is a prefix of the global order. A pull reads the counter and then the
// records up to it; both reads see prefixes, the second at least as long as the
// first, and every record with change_id <= the counter read is in the first
// prefix. So a pull on any node never returns, or advances a cursor past, a change
// id that could still commit below it: a cursor taken on one host is valid on all.
//
// What a node may lag is the end of the prefix: a push acknowledged by another node
// can be missing from a pull here for the few milliseconds until this node applies
// it; the pull then ends at a lower change_cutoff and the next pull returns it.
// wsrep_sync_wait = 1 (db_wsrep_sync_wait) would make each read wait for the node
// to catch up (read-your-writes across hosts) at a cluster round trip per read. It
// is not needed for the cursor, only for freshness, so the default is 0: a phone
// pulls after it pushes and gets its own records back at the latest on the next
// pull either way, and `make bench-cluster` shows what waiting costs.
//
// A push whose connection is lost during COMMIT has an unknown outcome; the
// transaction is not rerun (db/database.h) and the client gets a 503 and repeats the
// push under the same transmission_id, on any host. The transmission row commits
// atomically with the records: if the first attempt committed, the repeat's INSERT
// of that row meets it (a duplicate key locally, or a certification conflict that is
// retried until this node has applied it and the duplicate shows), and the stored
// response is replayed; if it did not commit, the repeat applies the push. Either
// way the push is applied exactly once.
#include "db/sync_repository.h"

#include <map>
#include <memory>

#include "core/time_util.h"
#include "db/lease.h"

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

std::string sql_datetime_ms(int64_t ms) {
    std::string s = core::rfc3339_ms(ms);  // 2026-11-28T21:09:34.123Z
    s[10] = ' ';
    s.pop_back();
    return s;
}

std::string placeholders(size_t n, const char* one) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        if (i) s += ",";
        s += one;
    }
    return s;
}

// Statement sizes for batches; a batch is split into these so few distinct
// statements are prepared per connection.
constexpr size_t kUpsertBuckets[] = {100, 25, 5, 1};
constexpr size_t kLockChunk = 500;

struct State {
    std::string hash;
    bool deleted;
    bool from_db;  // the stored row, not an earlier record of this push
};

}  // namespace

PushOutcome SyncRepository::push(const domain::PushRequest& req, const std::string& fingerprint,
                                 const std::string& username, int64_t now_ms, int64_t ttl_s,
                                 const std::function<std::string(const PushApplied&)>& render) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        PushOutcome out{PushOutcome::Kind::applied, ""};
        try {
            db_.transaction([&] {
                // Claim the transmission first: a concurrent identical push blocks here
                // until this one commits, then finds the stored response.
                auto& tx = db_.stmt(Stmt::SYNC_TX_INS);
                tx.setString(1, req.transmission_id);
                tx.setString(2, fingerprint);
                tx.setInt64(3, now_ms / 1000 + ttl_s);
                tx.executeUpdate();

                // Current state of every pushed id, in this push's order of application.
                std::map<std::string, State> state;
                std::vector<std::string> ids;
                for (const auto& r : req.records)
                    if (state.emplace(r.id, State{"", false, false}).second) ids.push_back(r.id);
                std::map<std::string, State> stored;
                bool locked = false;
                int64_t counter = 0;
                auto lock_counter = [&] {
                    if (locked) return;
                    RS rs(db_.stmt(Stmt::SYNC_COUNTER_LOCK).executeQuery());
                    if (!rs->next()) throw Error(ErrorKind::missing_table, 0, "sync_counter row missing");
                    counter = rs->getInt64(1);
                    locked = true;
                };
                if (!ids.empty()) {
                    // Reading the stored rows with FOR UPDATE after taking the counter lock
                    // means no other push can change them before we commit.
                    lock_counter();
                    for (size_t off = 0; off < ids.size(); off += kLockChunk) {
                        size_t n = std::min(kLockChunk, ids.size() - off);
                        auto& ps = db_.dynamic_stmt("SELECT id, hash, deleted FROM sync_records WHERE id IN (" +
                                                    placeholders(kLockChunk, "?") + ") FOR UPDATE");
                        // Pad with the last id so one statement serves every chunk size.
                        for (size_t i = 0; i < kLockChunk; ++i)
                            ps.setString(static_cast<unsigned>(i + 1), ids[off + std::min(i, n - 1)]);
                        RS rs(ps.executeQuery());
                        while (rs->next())
                            stored[rs->getString(1)] = State{rs->getString(2), rs->getInt(3) != 0, true};
                    }
                }

                PushApplied applied;
                std::vector<const domain::PushRecord*> final_write;  // one per id, last wins
                std::map<std::string, size_t> write_index;
                std::map<std::string, State> current = stored;
                struct Conflict {
                    std::string id, client_hash;
                };
                std::vector<Conflict> conflicts;
                for (const auto& r : req.records) {
                    ++applied.success_count;
                    auto it = current.find(r.id);
                    bool exists = it != current.end();
                    if (exists && it->second.hash == r.hash && it->second.deleted == r.deleted) continue;  // no-op
                    if (exists && r.client_hash && *r.client_hash != it->second.hash) {
                        if (it->second.from_db) conflicts.push_back({r.id, *r.client_hash});
                        applied.warnings.push_back(
                            {r.id, "CONFLICT",
                             "Record " + r.id + " was changed on the server since the client last saw it; "
                             "this push overwrote it and the previous version was kept"});
                    }
                    current[r.id] = State{r.hash, r.deleted, false};
                    auto wi = write_index.find(r.id);
                    if (wi == write_index.end()) {
                        write_index[r.id] = final_write.size();
                        final_write.push_back(&r);
                    } else {
                        final_write[wi->second] = &r;
                    }
                }

                if (!final_write.empty()) {
                    lock_counter();
                    applied.first_change_id = counter + 1;
                    // Keep the versions about to be overwritten, with the change that replaces them.
                    for (const auto& c : conflicts) {
                        auto& ins = db_.stmt(Stmt::SYNC_CONFLICT_INS);
                        ins.setString(1, c.client_hash.substr(0, 255));
                        ins.setString(2, username);
                        ins.setString(3, req.client_id);
                        ins.setInt64(4, counter + 1 + static_cast<int64_t>(write_index.at(c.id)));
                        ins.setString(5, c.id);
                        ins.executeUpdate();
                    }
                    std::string modified = sql_datetime_ms(now_ms);
                    size_t done = 0;
                    for (size_t bucket : kUpsertBuckets) {
                        while (final_write.size() - done >= bucket) {
                            auto& ps = db_.dynamic_stmt(
                                "INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, "
                                "change_id, last_modified, last_modified_by, origin_client_id) VALUES " +
                                placeholders(bucket, "(?,?,?,?,?,?,?,?,?,?)") +
                                " ON DUPLICATE KEY UPDATE schema_type = VALUES(schema_type), "
                                "schema_version = VALUES(schema_version), data = VALUES(data), hash = VALUES(hash), "
                                "deleted = VALUES(deleted), change_id = VALUES(change_id), "
                                "last_modified = VALUES(last_modified), last_modified_by = VALUES(last_modified_by), "
                                "origin_client_id = VALUES(origin_client_id)");
                            unsigned p = 1;
                            for (size_t i = 0; i < bucket; ++i) {
                                const auto& r = *final_write[done + i];
                                ps.setString(p++, r.id);
                                ps.setString(p++, r.schema_type);
                                ps.setString(p++, r.schema_version);
                                ps.setString(p++, r.data_json);
                                ps.setString(p++, r.hash);
                                ps.setInt(p++, r.deleted ? 1 : 0);
                                ps.setInt64(p++, ++counter);
                                ps.setString(p++, modified);
                                ps.setString(p++, username);
                                ps.setString(p++, req.client_id);
                            }
                            ps.executeUpdate();
                            done += bucket;
                        }
                    }
                    applied.last_change_id = counter;
                    auto& add = db_.stmt(Stmt::SYNC_COUNTER_ADD);
                    add.setInt64(1, counter);
                    add.executeUpdate();
                }

                out.response = render(applied);
                auto& set = db_.stmt(Stmt::SYNC_TX_SET_RESPONSE);
                set.setString(1, out.response);
                set.setString(2, req.transmission_id);
                set.executeUpdate();
            });
            return out;
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::duplicate) throw;
        }
        // The transmission id is taken: replay, refuse, or (expired) clear it and retry.
        std::optional<PushOutcome> found;
        db_.run([&] {
            auto& sel = db_.stmt(Stmt::SYNC_TX_SEL);
            sel.setString(1, req.transmission_id);
            RS rs(sel.executeQuery());
            if (!rs->next()) return;  // expired and removed meanwhile: try again
            if (rs->getInt64(3) <= core::unix_now()) {
                auto& del = db_.stmt(Stmt::SYNC_TX_DEL_ONE_EXPIRED);
                del.setString(1, req.transmission_id);
                del.executeUpdate();
                return;
            }
            if (std::string(rs->getString(1)) == fingerprint)
                found = PushOutcome{PushOutcome::Kind::replayed, rs->getString(2)};
            else
                found = PushOutcome{PushOutcome::Kind::mismatch, ""};
        });
        if (found) return *found;
    }
    throw Error(ErrorKind::deadlock, 0, "transmission id kept colliding with expiring rows");
}

PullPage SyncRepository::pull(int64_t after, const std::vector<std::string>& types, int limit) {
    PullPage page;
    static const char* kCols =
        "SELECT r.id, r.schema_type, r.schema_version, r.data, r.hash, r.deleted, r.change_id, "
        "DATE_FORMAT(r.last_modified, '%Y-%m-%dT%H:%i:%s.%fZ'), r.last_modified_by, r.origin_client_id "
        "FROM sync_records r ";
    std::string sql;
    if (types.empty()) {
        sql = std::string(kCols) + "WHERE r.change_id > ? AND r.change_id <= ? ORDER BY r.change_id LIMIT ?";
    } else {
        // One index range per type, merged: each part reads at most limit+1 rows. Only
        // change ids go through the merge (index-only reads, a small in-memory temporary
        // table); with the LONGTEXT data in it MariaDB would write an on-disk temporary
        // table for every filtered pull. The rows are then read by change_id.
        sql = std::string(kCols) + "JOIN (";
        for (size_t i = 0; i < types.size(); ++i) {
            if (i) sql += " UNION ALL ";
            sql += "(SELECT change_id FROM sync_records "
                   "WHERE schema_type = ? AND change_id > ? AND change_id <= ? ORDER BY change_id LIMIT ?)";
        }
        sql += " ORDER BY change_id LIMIT ?) k ON r.change_id = k.change_id ORDER BY k.change_id";
    }
    db_.run([&] {
        page = PullPage{};
        // No transaction is needed: records and the counter commit together, so every
        // record with change_id <= the counter read here is committed and visible to
        // the next statement, and nothing above it is returned.
        {
            {
                RS rs(db_.stmt(Stmt::SYNC_COUNTER_SEL).executeQuery());
                page.snapshot_cutoff = rs->next() ? rs->getInt64(1) : 0;
            }
            auto& ps = db_.dynamic_stmt(sql);
            unsigned p = 1;
            if (types.empty()) {
                ps.setInt64(p++, after);
                ps.setInt64(p++, page.snapshot_cutoff);
                ps.setInt(p++, limit + 1);
            } else {
                for (const auto& t : types) {
                    ps.setString(p++, t);
                    ps.setInt64(p++, after);
                    ps.setInt64(p++, page.snapshot_cutoff);
                    ps.setInt(p++, limit + 1);
                }
                ps.setInt(p++, limit + 1);
            }
            RS rs(ps.executeQuery());
            page.records.reserve(static_cast<size_t>(limit) + 1);
            while (rs->next()) {
                StoredRecord r;
                r.id = rs->getString(1);
                r.schema_type = rs->getString(2);
                r.schema_version = rs->getString(3);
                r.data = rs->getString(4);
                r.hash = rs->getString(5);
                r.deleted = rs->getInt(6) != 0;
                r.change_id = rs->getInt64(7);
                std::string lm = rs->getString(8);  // microseconds: keep milliseconds
                if (lm.size() > 24) lm = lm.substr(0, 23) + "Z";
                r.last_modified = lm;
                r.last_modified_by = rs->getString(9);
                r.origin_client_id = rs->getString(10);
                page.records.push_back(std::move(r));
            }
        }
        if (page.records.size() > static_cast<size_t>(limit)) {
            page.records.pop_back();
            page.has_more = true;
        }
    });
    return page;
}

void SyncRepository::delete_expired_transmissions() {
    run_job_exclusively(db_, "sync_transmissions_expiry", kHousekeepingIntervalS,
                        [&] { db_.run([&] { db_.stmt(Stmt::SYNC_TX_DEL_EXPIRED).executeUpdate(); }); });
}

}  // namespace db
