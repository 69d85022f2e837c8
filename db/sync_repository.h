// Records, the change counter, conflicts and stored push responses.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "db/database.h"
#include "domain/sync_request.h"

namespace db {

struct SyncWarning {
    std::string id;
    std::string code;
    std::string message;
};

// What a push did, for the response the handler renders (inside the transaction,
// because that exact text is stored for replays).
struct PushApplied {
    int64_t success_count = 0;
    std::vector<SyncWarning> warnings;
    int64_t first_change_id = 0;  // 0 when nothing changed
    int64_t last_change_id = 0;
};

struct PushOutcome {
    enum class Kind { applied, replayed, mismatch } kind;
    std::string response;  // the response body (stored or replayed)
};

struct StoredRecord {
    std::string id, schema_type, schema_version, data, hash;
    bool deleted = false;
    int64_t change_id = 0;
    std::string last_modified;  // RFC 3339 with milliseconds
    std::string last_modified_by, origin_client_id;
};

struct PullPage {
    std::vector<StoredRecord> records;
    bool has_more = false;
    int64_t snapshot_cutoff = 0;  // highest change_id committed when the page was read
};

class SyncRepository {
public:
    explicit SyncRepository(Database& db) : db_(db) {}

    // Applies a push in one transaction, or replays the stored response of the same
    // transmission. `render` builds the response body from what was applied.
    PushOutcome push(const domain::PushRequest& req, const std::string& fingerprint, const std::string& username,
                     int64_t now_ms, int64_t ttl_s, const std::function<std::string(const PushApplied&)>& render);

    // Records with change_id > after (restricted to `types` when not empty), ascending,
    // at most `limit`, all read from one snapshot.
    PullPage pull(int64_t after, const std::vector<std::string>& types, int limit);

    // Housekeeping: at most once a minute cluster-wide, never twice at once; never throws.
    void delete_expired_transmissions();

private:
    Database& db_;
};

}  // namespace db
