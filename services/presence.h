// Device presence (CONTRACT §8): which client_id pushed or pulled, when, as whom, from
// which cursor, how much. Remembering must cost a sync request nothing measurable and,
// on Galera, never conflict with pushes at certification. So:
//
// - It is never written in a push's transaction: presence is its own autocommit
//   statement after the push has committed (or after the pull has answered).
//
// Why presence (and audit) writes cannot make a push rerun on Galera. A push's
// transaction (SyncService::push_once) writes only these rows: its
// sync_transmissions row (by transmission_id), the sync_counter row, the sync_records
// rows it changes, sync_conflicts rows for overwritten versions, record_counts rows
// (form type, deleted), sync_record_history rows (new auto-increment ids: on Galera
// each node hands out its own residue class, wsrep_auto_increment_control, on by
// default) and the attachment_refs rows of its records. Its locking reads (FOR
// UPDATE on the counter and its records) are on those tables too; housekeeping
// after a push is a transaction of its own. A presence write touches one
// device_presence row, keyed by client_id, and nothing else. An audit event is one
// new audit_log row (auto-increment id, as above), written only in admin
// transactions, which touch users, refresh_tokens, admin_guard, bundle and
// attachment rows: none of a push's tables. No table has a foreign key (sql/), so
// no write-set carries a parent row's key either. Certification fails a transaction
// only when its write-set shares a key with one certified after its snapshot, and
// a local transaction is brute-force aborted only when an applied write-set needs a
// row lock it holds; both need a shared row, and a push shares none with presence
// or audit writes, so neither can cause a push's rerun (1213). Presence writes can
// conflict only with each other (one device's row written through two hosts at
// once), and losing one costs nothing: the worker keeps its delta and writes it
// with the next one.
// tests/cluster/test_4_presence_reruns.py checks this directly (presence and audit
// writes flat out through one host, pushes one at a time through the other: no
// push reran), and `make bench-cluster` (BENCH_ONLY=retries) counts the reruns per
// kind (push, presence, role change) under load.
//
// - Each worker keeps, per device, what it saw since it last wrote the row (counts,
//   newest times, cursor) and tries to write at most once per presence_interval per
//   device. The write itself is conditional on the row's written_at being at least
//   presence_interval old (db/device_repository.h), so however many workers and hosts
//   see a device, its row is written at most once per interval; a worker whose write
//   was refused keeps its delta and tries again one interval later. A device never
//   seen before is written at once, so it shows up in the list right away.
// - A pull within the interval is no database statement at all.
//
// What a worker holds and has not written yet is lost if it dies (counts only; the
// next request writes the times again). The map is bounded: past kMaxPending devices
// the worker writes or drops the oldest entries.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "db/database.h"
#include "db/rows.h"

namespace services {

class PresenceTracker {
public:
    // Disabled (device_presence = off), it keeps and writes nothing.
    PresenceTracker(db::Database& db, int64_t interval_s, bool enabled = true)
        : db_(db), interval_ms_(interval_s * 1000), enabled_(enabled) {}

    // `generation` is "records", "observations" or "" when the request did not say.
    void saw_push(const std::string& client_id, const std::string& username,
                  const std::string& generation, int64_t records, int64_t now_ms);
    void saw_pull(const std::string& client_id, const std::string& username,
                  const std::string& generation, int64_t cursor, int64_t now_ms);
    size_t pending() const { return pending_.size(); }

    static constexpr size_t kMaxPending = 10000;

private:
    struct Entry {
        db::PresenceDelta delta;
        int64_t tried_at_ms = 0;  // 0: never tried to write
    };
    Entry& entry(const std::string& client_id, const std::string& username, const std::string& generation,
                 int64_t now_ms);
    void maybe_write(Entry& e, int64_t now_ms);

    db::Database& db_;
    int64_t interval_ms_;
    bool enabled_;
    std::map<std::string, Entry> pending_;
};

}  // namespace services
