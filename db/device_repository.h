// Device presence rows (GET /admin/devices): one per client_id that pushed or pulled.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace db {

class DeviceRepository {
public:
    explicit DeviceRepository(Tx& tx) : tx_(tx) {}
    // Adds `d` to the device's row unless a worker wrote the row less than
    // `interval_ms` ago (then false: the caller keeps the delta for later). A device
    // not yet stored is inserted at once. Run as its own autocommit unit of work,
    // never in a push's transaction.
    bool write(const PresenceDelta& d, int64_t interval_ms);
    // Most recently seen first; `after` is (sort_key, client_id) of the last row of the
    // previous page.
    std::vector<DeviceRow> page(const std::optional<std::pair<std::string, std::string>>& after, int limit);

private:
    Tx& tx_;
};

}  // namespace db
