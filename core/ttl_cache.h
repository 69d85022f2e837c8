// A small per-process cache bounded in time and in size: an entry is trusted for
// `ttl_ms` after it was read from its source (then find() forgets it), and at most
// `max_entries` are kept (the oldest read goes first). With one TTL for all entries,
// the order in which they were stored is the order in which they expire, so one list
// serves both bounds. ttl_ms <= 0 or max_entries == 0 turns the cache off.
//
// What a worker may cache with it is what it could also have read just before the
// source changed: a reader that trusts an entry at most ttl_ms old sees every change
// at most ttl_ms late, on every worker and every host, whatever happens in between.
// Callers that learn of a change on this host (a shared generation counter) clear()
// the cache, so there the delay is none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace core {

template <typename Key, typename Value>
class TtlCache {
public:
    TtlCache(size_t max_entries, int64_t ttl_ms) : max_(max_entries), ttl_ms_(ttl_ms) {}

    bool enabled() const { return max_ > 0 && ttl_ms_ > 0; }
    int64_t ttl_ms() const { return ttl_ms_; }

    // The value stored for `key` if it was read from its source less than ttl_ms
    // before `now_ms`.
    std::optional<Value> find(const Key& key, int64_t now_ms) {
        auto it = index_.find(key);
        if (it == index_.end()) return std::nullopt;
        if (now_ms - it->second->read_at_ms >= ttl_ms_ || now_ms < it->second->read_at_ms) {
            order_.erase(it->second);
            index_.erase(it);
            return std::nullopt;
        }
        return it->second->value;
    }

    // Stores `value` as read from its source at `read_at_ms` (taken before the read).
    void put(const Key& key, Value value, int64_t read_at_ms) {
        if (!enabled()) return;
        erase(key);
        while (!order_.empty() && (order_.size() >= max_ || read_at_ms - order_.front().read_at_ms >= ttl_ms_)) {
            index_.erase(order_.front().key);
            order_.pop_front();
        }
        order_.push_back(Entry{key, std::move(value), read_at_ms});
        index_[key] = std::prev(order_.end());
    }

    void erase(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return;
        order_.erase(it->second);
        index_.erase(it);
    }

    void clear() {
        index_.clear();
        order_.clear();
    }

    size_t size() const { return order_.size(); }

private:
    struct Entry {
        Key key;
        Value value;
        int64_t read_at_ms;
    };
    size_t max_;
    int64_t ttl_ms_;
    std::list<Entry> order_;  // oldest read first
    std::unordered_map<Key, typename std::list<Entry>::iterator> index_;
};

}  // namespace core
