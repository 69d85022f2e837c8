// What an admin reads about records and attachments (CONTRACT section 8): the record
// list under its filters, a record with its history and the attachments its data
// names, and the attachment list with its references. Read-only; pushes keep the
// history and references (services/sync_service.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"
#include "domain/list_cursor.h"

namespace services {

// The filters of GET /admin/records, validated; times are unix milliseconds.
struct RecordQuery {
    std::optional<std::string> form_type, client_id, username;
    std::optional<bool> deleted;
    std::optional<int64_t> changed_after_ms, changed_before_ms;
};

struct RecordPage {
    std::vector<db::StoredRecord> records;
    std::optional<domain::ListPosition> next;  // the position after the last record, when more may follow
};

struct AttachmentRef {
    std::string attachment_id;
    bool present = false;  // uploaded and not deleted
};

struct RecordDetail {
    db::StoredRecord record;
    std::vector<db::HistoryRow> history;  // newest first, at most kMaxHistoryRows
    std::vector<AttachmentRef> attachments;
};

struct AdminAttachment {
    db::AdminAttachmentRow row;
    std::vector<std::string> referenced_by;  // at most kMaxReferencedBy record ids
};

struct AttachmentPage {
    std::vector<AdminAttachment> attachments;
    std::optional<domain::ListPosition> next;
};

inline constexpr int kMaxHistoryRows = 500;
inline constexpr int kMaxReferencedBy = 10;
// Positions: records {change_id, synced_at (RFC 3339 ms)}, attachments {version}.
inline constexpr size_t kRecordPositionParts = 2;
inline constexpr size_t kAttachmentPositionParts = 1;

class RecordAdmin {
public:
    explicit RecordAdmin(db::Database& db) : db_(db) {}

    // One page after `page.after`, newest change first (newest synced_at first under a
    // time filter). Throws domain::InvalidInput naming `cursor` for a position that
    // does not read back (only possible with a leaked key).
    RecordPage records(const RecordQuery& q, const domain::ListPage& page);
    std::optional<RecordDetail> record(const std::string& id);
    AttachmentPage attachments(bool unreferenced_only, const domain::ListPage& page);

private:
    db::Database& db_;
};

}  // namespace services
