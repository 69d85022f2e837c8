// Attachments: the record of which id names which stored file, and the change
// versions the manifest is read by. The files live on disk
// (services/attachment_store.h); this is what every worker and host agrees on.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct AttachmentRow {
    std::string attachment_id;
    std::string sha256;  // lowercase hex; kept after a deletion (retention needs it)
    int64_t size = 0;
    std::string content_type;
    bool deleted = false;
    int64_t version = 0;  // from sync_counter
};

class AttachmentRepository {
public:
    explicit AttachmentRepository(Database& db) : db_(db) {}

    // The row of `id`, deleted or not.
    std::optional<AttachmentRow> find(const std::string& id);

    enum class PutResult { stored, unchanged, conflict };
    // Stores `row` (id, sha256, size, content_type) as the id's next change, unless
    // the id already names a live file: the same bytes are `unchanged`, others a
    // `conflict`. `place` puts the file in place after those checks and before the
    // row is written, under the counter lock (so retention cannot remove that file
    // meanwhile); it may run again if the transaction is retried.
    PutResult put(const AttachmentRow& row, const std::string& by, const std::function<void()>& place);

    // Marks a live attachment deleted as its next change; false when there is none.
    // When no other live attachment has its bytes, the file is recorded as retired.
    bool remove(const std::string& id, const std::string& by);

    struct Changes {
        int64_t current_version = 0;
        std::vector<AttachmentRow> rows;  // ascending version
    };
    // Every attachment whose latest change is after `since`, read in one snapshot
    // together with the counter they are bounded by.
    Changes changes_since(int64_t since);

    // Live attachments by id (synkronus-admin).
    std::vector<AttachmentRow> live();
    // True when the data of some live record mentions `id` as a JSON string.
    bool referenced(const std::string& id);

    // Retired files whose grace period has passed.
    std::vector<std::string> retired_due(int64_t grace_seconds);
    // Under the counter lock: unless a live attachment names `sha256` again (an
    // upload of the same bytes since), runs `remove_file`; then forgets the entry.
    void retire_file(const std::string& sha256, const std::function<void()>& remove_file);

private:
    Database& db_;
};

}  // namespace db
