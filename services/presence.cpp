#include "services/presence.h"

#include "db/device_repository.h"

#include "core/log.h"

namespace services {

PresenceTracker::Entry& PresenceTracker::entry(const std::string& client_id, const std::string& username,
                                               const std::string& generation, int64_t now_ms) {
    if (pending_.size() >= kMaxPending && !pending_.count(client_id)) {
        // Bounded memory: forget devices whose deltas hold no counts first.
        for (auto it = pending_.begin(); it != pending_.end() && pending_.size() >= kMaxPending / 2;)
            it = it->second.delta.pushes == 0 ? pending_.erase(it) : std::next(it);
        if (pending_.size() >= kMaxPending) pending_.clear();
    }
    Entry& e = pending_[client_id];
    auto& d = e.delta;
    if (d.client_id.empty()) {
        d.client_id = client_id;
        d.first_seen_ms = now_ms;
    }
    d.username = username;
    if (!generation.empty()) d.generation = generation;
    d.last_seen_ms = now_ms;
    return e;
}

void PresenceTracker::saw_push(const std::string& client_id, const std::string& username,
                               const std::string& generation, int64_t records, int64_t now_ms) {
    if (!enabled_) return;
    Entry& e = entry(client_id, username, generation, now_ms);
    e.delta.last_push_ms = now_ms;
    e.delta.pushes += 1;
    e.delta.records_pushed += records;
    maybe_write(e, now_ms);
}

void PresenceTracker::saw_pull(const std::string& client_id, const std::string& username,
                               const std::string& generation, int64_t cursor, int64_t now_ms) {
    if (!enabled_) return;
    Entry& e = entry(client_id, username, generation, now_ms);
    e.delta.last_pull_ms = now_ms;
    e.delta.cursor = cursor;
    maybe_write(e, now_ms);
}

void PresenceTracker::maybe_write(Entry& e, int64_t now_ms) {
    if (e.delta.client_id.empty()) return;
    if (e.tried_at_ms != 0 && now_ms - e.tried_at_ms < interval_ms_) return;
    e.tried_at_ms = now_ms;
    try {
        bool written = false;
        const int runs =
            db_.run([&](db::Tx& tx) { written = db::DeviceRepository(tx).write(e.delta, interval_ms_); });
        // Reruns are conflicts with another presence write of this device (the only
        // writer of its row, presence.h); make bench-cluster counts these lines.
        if (runs > 1) core::log::debug("presence write reran " + std::to_string(runs - 1) + " time(s)");
        if (!written) return;  // kept for the next try
    } catch (const std::exception& ex) {
        // Presence never fails the request it describes (a write that lost every rerun
        // to conflicts lands here too: counted by make bench-cluster).
        core::log::warn(std::string("device presence not written: ") + ex.what());
        return;
    }
    // Written: start a new delta, keeping the time of the try.
    const std::string client_id = e.delta.client_id;
    e.delta = db::PresenceDelta{};
    e.delta.client_id = client_id;
    e.delta.first_seen_ms = now_ms;
}

}  // namespace services
