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
    // Reads every figure (in one transaction, so that they agree); the per-form-type
    // counts are the rows of record_counts that pushes keep (sql/011_record_counts.sql).
    OverviewFigures compute();
    std::optional<CachedOverview> cached();
    void store(const std::string& body, int64_t computed_at_ms);

private:
    Tx& tx_;
};

}  // namespace db
