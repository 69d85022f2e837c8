// The admin overview's figures (GET /admin/overview), and the row that shares the
// latest computation between workers and hosts.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct FormTypeFigures {
    std::string form_type;
    int64_t records = 0;  // tombstones included
    int64_t deleted = 0;
    std::string last_synced_at;  // RFC 3339
};

struct OverviewFigures {
    std::optional<int64_t> active_bundle_version;
    int64_t current_version = 0;
    int64_t users = 0, devices = 0, devices_seen_24h = 0, attachments = 0, attachment_bytes = 0;
    std::vector<FormTypeFigures> form_types;
};

struct CachedOverview {
    std::string body;
    int64_t computed_at_ms = 0;
};

class OverviewRepository {
public:
    explicit OverviewRepository(Database& db) : db_(db) {}
    // Reads every figure; the per-form-type counts read the whole of sync_records'
    // (schema_type, ...) index, which is why the result is shared for 10 s.
    OverviewFigures compute();
    std::optional<CachedOverview> cached();
    void store(const std::string& body, int64_t computed_at_ms);

private:
    Database& db_;
};

}  // namespace db
