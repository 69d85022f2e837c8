// The admin overview's figures (GET /admin/overview), and the row that shares the
// latest computation between workers and hosts.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace db {

class OverviewRepository {
public:
    explicit OverviewRepository(Tx& tx) : tx_(tx) {}
    // Reads every figure (in one transaction, so that they agree); the per-form-type counts read the whole of sync_records'
    // (schema_type, ...) index, which is why the result is shared for 10 s.
    OverviewFigures compute();
    std::optional<CachedOverview> cached();
    void store(const std::string& body, int64_t computed_at_ms);

private:
    Tx& tx_;
};

}  // namespace db
