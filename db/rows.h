// The rows the repositories return and take: plain data, no SQL and no connector
// types, so the services can hand them to the handlers (which never see a
// repository or the connector; tests/check_layers.sh).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace db
