// Record history, attachment references, and the admin lists of records and
// attachments (CONTRACT section 8). Runs statements only: the push writes happen in
// services::SyncService's transaction, the lists are paged by services::RecordAdmin.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/database.h"
#include "db/sync_repository.h"

namespace db {

struct HistoryRow {
    int64_t change_id = 0;
    std::string hash;
    bool deleted = false;
    std::string data;  // canonical JSON
    std::optional<std::string> created_at, updated_at, geolocation;
    std::string modified_by, client_id, synced_at;  // synced_at RFC 3339 with ms
    std::string replaced_by;                        // "push" or "conflict"
};

struct RecordFilter {
    std::optional<std::string> form_type, client_id, username;
    std::optional<bool> deleted;
    std::optional<std::string> changed_after, changed_before;  // DATETIME(3) text, UTC
    bool by_time() const { return changed_after || changed_before; }
};

// Where a page of records starts: below this change_id (and, for a time filter,
// at or below this synced_at). The first page starts above everything.
struct RecordCursor {
    int64_t change_id = INT64_MAX;
    std::string synced_at = "9999-12-31 23:59:59.999";  // DATETIME(3) text
};

struct AdminAttachmentRow {
    std::string attachment_id;
    int64_t size = 0;
    std::string content_type, sha256, uploaded_by, uploaded_at;  // uploaded_at RFC 3339 ms
    int64_t version = 0;
    int64_t references = 0;
};

class RecordAdminRepository {
public:
    explicit RecordAdminRepository(Database& db) : db_(db) {}

    // In the push transaction, after the rows of `ids` were locked: copies their stored
    // versions into the history as replaced by `replaced_by` ("push" or "conflict").
    void keep_history(const std::vector<std::string>& ids, const char* replaced_by, int64_t now_ms);
    // In the push transaction: the references of `records` become exactly the given
    // attachment ids. `existing` lists those of them that were stored before (only they
    // can have references to drop).
    void replace_refs(const std::vector<std::string>& existing,
                      const std::vector<std::pair<std::string, std::vector<std::string>>>& records);
    // Housekeeping: deletes history older than `days`; at most once a minute cluster-wide.
    void delete_old_history(int64_t days);

    // One page (`limit` rows) of records matching `filter`, newest first, from `cursor`.
    std::vector<StoredRecord> records(const RecordFilter& filter, const RecordCursor& cursor, int limit);
    std::optional<StoredRecord> record(const std::string& id);
    std::vector<HistoryRow> history(const std::string& id, int limit);

    // Live attachments with version below `before_version`, newest first.
    std::vector<AdminAttachmentRow> attachments(bool unreferenced_only, int64_t before_version, int limit);
    // Up to `limit` ids of the live records naming `attachment_id`, by id.
    std::vector<std::string> referencing_records(const std::string& attachment_id, int limit);
    // Whether `attachment_id` names a live attachment; nullopt when it was never uploaded.
    std::optional<bool> attachment_present(const std::string& attachment_id);

private:
    Database& db_;
};

}  // namespace db
