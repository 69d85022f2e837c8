// Device presence rows (GET /admin/devices): one per client_id that pushed or pulled.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

// What one worker saw of a device since it last wrote the device's row. Times are
// unix ms, 0 when the worker saw no such request.
struct PresenceDelta {
    std::string client_id;
    std::string username;
    std::string generation;  // "records" or "observations" of the newest request that said; "" if none did
    int64_t first_seen_ms = 0;
    int64_t last_seen_ms = 0;
    int64_t last_push_ms = 0;
    int64_t last_pull_ms = 0;
    std::optional<int64_t> cursor;  // of the newest pull seen
    int64_t pushes = 0;
    int64_t records_pushed = 0;
};

struct DeviceRow {
    std::string client_id;
    std::string username;
    std::string generation;
    std::string first_seen, last_seen;  // RFC 3339
    std::optional<std::string> last_push_at, last_pull_at;
    std::optional<int64_t> cursor;
    int64_t pushes = 0;
    int64_t records_pushed = 0;
    std::string sort_key;  // last_seen as MariaDB reads it back, for the page cursor
};

class DeviceRepository {
public:
    explicit DeviceRepository(Database& db) : db_(db) {}
    // Adds `d` to the device's row unless a worker wrote the row less than
    // `interval_ms` ago (then false: the caller keeps the delta for later). A device
    // not yet stored is inserted at once. One autocommit statement, never in a push's
    // transaction.
    bool write(const PresenceDelta& d, int64_t interval_ms);
    // Most recently seen first; `after` is (sort_key, client_id) of the last row of the
    // previous page.
    std::vector<DeviceRow> page(const std::optional<std::pair<std::string, std::string>>& after, int limit);

private:
    Database& db_;
};

}  // namespace db
