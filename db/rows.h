// The rows the repositories return and take: plain data, no SQL and no connector
// types, so the services can hand them to the handlers (which never see a
// repository or the connector; tests/check_layers.sh).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/sync_request.h"

namespace db {

struct UserRow {
    std::string username;
    std::string password_hash;
    std::string role;
    int64_t token_version = 0;
    std::string created_at;  // RFC 3339
};

struct AuthInfo {
    std::string role;
    int64_t token_version;
    // jtis of the user's access tokens ended before their exp (POST /auth/logout).
    std::vector<std::string> revoked_jtis;
};

struct BundleVersionRow {
    int64_t version = 0;
    std::string manifest;       // the manifest JSON, as served
    std::string manifest_hash;  // lowercase hex
    std::string zip_sha256;     // lowercase hex of the archive as pushed
    int64_t zip_size = 0;
    int64_t pushed_at_ms = 0;   // for inserts; reads leave it 0
    std::string pushed_by;
};

// The active and the newest stored version, read in one statement.
struct BundleHeads {
    std::optional<int64_t> active;
    std::string active_manifest_hash;
    std::optional<int64_t> newest;
    std::string newest_manifest_hash;
};

struct BundleListEntry {
    int64_t version;
    bool active;
};

struct AttachmentRow {
    std::string attachment_id;
    std::string sha256;  // lowercase hex; kept after a deletion (retention needs it)
    int64_t size = 0;
    std::string content_type;
    bool deleted = false;
    int64_t version = 0;  // from sync_counter
};

struct StoredRecord {
    std::string id, schema_type, schema_version, data, hash;
    bool deleted = false;
    int64_t change_id = 0;
    std::string last_modified;  // RFC 3339 with milliseconds
    std::string last_modified_by, origin_client_id;
    domain::ObservationFields fields;  // all null for records pushed without them
};

struct StoredTransmission {
    std::string fingerprint;
    std::string response;
    int64_t expires_at = 0;  // unix seconds
};

// Who pushed and when: the server-assigned fields of every record a push writes.
struct PushOrigin {
    std::string username;
    std::string client_id;
    int64_t now_ms = 0;
};

// The audit log (db/audit_repository.h).
struct AuditRow {
    int64_t id = 0;
    std::string at;  // RFC 3339 UTC
    std::string actor;
    std::string action;
    std::string target;
    std::string detail;  // a JSON object
    std::string address;
    std::string request_id;
};

struct AuditFilter {
    std::optional<std::string> actor;
    std::optional<std::string> action;
    std::string after = "1970-01-01 00:00:00";   // exclusive, UTC "YYYY-MM-DD hh:mm:ss.ffffff"
    std::string before = "9999-12-31 23:59:59";  // exclusive
    int64_t below_id = INT64_MAX;                // the cursor: ids below it
};

// Device presence (db/device_repository.h).
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

// The admin overview (db/overview_repository.h).
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

// Record history, attachment references, the admin lists (db/record_admin_repository.h).
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

}  // namespace db
