// Device presence (CONTRACT §8): which client_id pushed or pulled, when, as whom, from
// which cursor, how much. Remembering must cost a sync request nothing measurable and,
// on Galera, never conflict with pushes at certification. So:
//
// - It is never written in a push's transaction: a push's write-set holds only the
//   change counter, records and its transmission row; presence is its own autocommit
//   statement after the push has committed (or after the pull has answered). Two
//   presence writes can only conflict with each other, and losing one costs nothing:
//   the worker keeps its delta and writes it with the next one.
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
