// Parsing and validation of the /sync/push and /sync/pull bodies: shapes, types and
// limits only, no HTTP and no SQL. Whole-request problems throw domain::InvalidInput
// naming each field; a bad record in a push fails alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace domain {

inline constexpr size_t kMaxTransmissionIdChars = 64;
inline constexpr size_t kMaxClientIdChars = 128;
inline constexpr size_t kMaxClientTimeChars = 64;
inline constexpr size_t kMaxRecordIdChars = 255;
inline constexpr size_t kMaxSchemaTypeChars = 255;
inline constexpr size_t kMaxSchemaVersionChars = 64;
// Bound on a pull's schema_types (sum of UTF-8 bytes plus 2 per entry) so the page
// token that carries the filter, plus one query schemaType, stays under
// kMaxPageTokenLength.
inline constexpr size_t kMaxPullFilterBytes = 4096;

// What an observation (CONTRACT §7) owns beyond a record; null when not given.
struct ObservationFields {
    std::optional<std::string> created_at, updated_at;  // RFC 3339, as the client wrote them
    std::optional<std::string> geolocation;             // canonical JSON of the object
    bool operator==(const ObservationFields&) const = default;
};

// Which shape pulled records come back in (CONTRACT §7).
enum class RecordShape : unsigned char { records = 0, observations = 1, both = 2 };

// The field names of the two shapes of one record (CONTRACT §7's table), for
// reading pushed items and writing pulled ones.
struct ShapeNames {
    const char* id;
    const char* type;
    const char* version;
    const char* change_id;
    const char* last_modified;
};
inline constexpr ShapeNames kRecordNames{"id", "schemaType", "schemaVersion", "change_id", "last_modified"};
inline constexpr ShapeNames kObservationNames{"observation_id", "form_type", "form_version", "version", "synced_at"};

// One pushed item of either shape: a record `{id, schemaType, schemaVersion, ...}`
// or an observation `{observation_id, form_type, form_version, ...}`.
struct PushRecord {
    size_t index = 0;  // position in the pushed `records` array
    std::string id, schema_type, schema_version;
    std::string data_json;  // canonical JSON (RFC 8785) of data
    std::string hash;       // server-computed record_hash
    std::optional<std::string> client_hash;  // the `hash` the client sent, if a string
    bool deleted = false;
    bool observation = false;  // pushed in the observation shape
    ObservationFields fields;
    // A record-shape item without any observation field: the stored ones stay.
    bool keeps_fields = false;
};

struct FailedRecord {
    std::string id;  // the record's id if it was a string, else ""
    size_t index = 0;
    std::string code;  // "VALIDATION"
    std::string error;  // readable reason naming the field(s)
};

struct PushRequest {
    std::string transmission_id;  // 1..64 of A-Z a-z 0-9 _ -, case-sensitive
    std::string client_id;
    // Valid records in pushed order. An id pushed twice appears twice; applying them in
    // order makes the later one win, as if they had come in two pushes.
    std::vector<PushRecord> records;
    std::vector<FailedRecord> failed;  // in pushed order
};

// Server-assigned fields (change_id, last_modified, last_modified_by, origin_client_id)
// and unknown fields are ignored. `deleted: null` and `hash: null` count as absent.
PushRequest parse_push_request(const rapidjson::Document& body, size_t max_records);

struct PullRequest {
    std::string client_id;
    int64_t after_change_id = 0;  // from after_change_id or since.version
    std::vector<std::string> schema_types;  // sorted, deduplicated; empty = all types
    // observations for `since`, records for `after_change_id`, both when the body
    // gives no cursor (or both cursors, with one value).
    RecordShape shape = RecordShape::both;
};

// Sorts and deduplicates a schema type filter: the one order in which pulls, page
// tokens and statements see it.
void normalize_schema_types(std::vector<std::string>& types);

// Optional fields given as null count as absent.
PullRequest parse_pull_request(const rapidjson::Document& body);

}  // namespace domain
