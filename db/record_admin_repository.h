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
#include "db/rows.h"

namespace db {

class RecordAdminRepository {
public:
    explicit RecordAdminRepository(Tx& tx) : tx_(tx) {}

    // In the push transaction, after the rows of `ids` were locked: copies their stored
    // versions into the history as replaced by `replaced_by` ("push" or "conflict").
    void keep_history(const std::vector<std::string>& ids, const char* replaced_by, int64_t now_ms);
    // In the push transaction: the references of `records` become exactly the given
    // attachment ids. `existing` lists those of them that were stored before (only they
    // can have references to drop).
    void replace_refs(const std::vector<std::string>& existing,
                      const std::vector<std::pair<std::string, std::vector<std::string>>>& records);
    // Deletes history older than `days`.
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
    Tx& tx_;
};

}  // namespace db
