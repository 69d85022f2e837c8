#include "db/statements.h"

#include <cstddef>
#include <stdexcept>
#include <string>

namespace db {

namespace {

std::string repeat(size_t n, const char* one, const char* sep) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.append(i ? sep : "").append(one);
    return s;
}

// The text of the sized statements, built once at start-up.
template <size_t N>
const char* sync_lock_sql() {
    static const std::string s =
        "SELECT id, hash, deleted, created_at, updated_at, geolocation, schema_type FROM sync_records WHERE id IN (" + repeat(N, "?", ",") + ") FOR UPDATE";
    return s.c_str();
}

template <size_t N>
const char* sync_upsert_sql() {
    static const std::string s =
        "INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, change_id, last_modified, "
        "last_modified_by, origin_client_id, created_at, updated_at, geolocation) VALUES " +
        repeat(N, "(?,?,?,?,?,?,?,?,?,?,?,?,?)", ",") +
        " ON DUPLICATE KEY UPDATE schema_type = VALUES(schema_type), schema_version = VALUES(schema_version), "
        "data = VALUES(data), hash = VALUES(hash), deleted = VALUES(deleted), change_id = VALUES(change_id), "
        "last_modified = VALUES(last_modified), last_modified_by = VALUES(last_modified_by), "
        "origin_client_id = VALUES(origin_client_id), created_at = VALUES(created_at), "
        "updated_at = VALUES(updated_at), geolocation = VALUES(geolocation)";
    return s.c_str();
}

#define SYNC_PULL_COLUMNS                                                                             \
    "SELECT r.id, r.schema_type, r.schema_version, r.data, r.hash, r.deleted, r.change_id, "         \
    "DATE_FORMAT(r.last_modified, '%Y-%m-%dT%H:%i:%s.%fZ'), r.last_modified_by, r.origin_client_id, " \
    "r.created_at, r.updated_at, r.geolocation "                                                        \
    "FROM sync_records r "

// One index range per type, merged: each part reads at most limit+1 rows. Only change
// ids go through the merge (index-only reads, a small in-memory temporary table);
// with the LONGTEXT data in it MariaDB would write an on-disk temporary table for
// every filtered pull. The rows are then read by change_id.
// Parameters: N × (schema_type, after, upto, limit), then limit.
template <size_t N>
const char* sync_pull_types_sql() {
    static const std::string s =
        SYNC_PULL_COLUMNS "JOIN (" +
        repeat(N, "(SELECT change_id FROM sync_records WHERE schema_type = ? AND change_id > ? AND change_id <= ? "
                  "ORDER BY change_id LIMIT ?)", " UNION ALL ") +
        " ORDER BY change_id LIMIT ?) k ON r.change_id = k.change_id ORDER BY k.change_id";
    return s.c_str();
}
template <size_t N>
const char* history_ins_sql() {
    // Parameters: replaced_by, replaced_at, then N ids. Copies the stored rows that a
    // push is about to overwrite (locked FOR UPDATE by it).
    static const std::string s =
        "INSERT INTO sync_record_history (record_id, change_id, schema_type, schema_version, data, hash, deleted, "
        "synced_at, modified_by, client_id, created_at, updated_at, geolocation, replaced_by, replaced_at) "
        "SELECT id, change_id, schema_type, schema_version, data, hash, deleted, last_modified, last_modified_by, "
        "origin_client_id, created_at, updated_at, geolocation, ?, ? FROM sync_records WHERE id IN (" +
        repeat(N, "?", ",") + ")";
    return s.c_str();
}

template <size_t N>
const char* refs_del_sql() {
    static const std::string s = "DELETE FROM attachment_refs WHERE record_id IN (" + repeat(N, "?", ",") + ")";
    return s.c_str();
}

template <size_t N>
const char* refs_ins_sql() {
    // Parameters: N × (attachment_id, record_id). A row already there is kept as is.
    static const std::string s = "INSERT INTO attachment_refs (attachment_id, record_id) VALUES " +
                                 repeat(N, "(?,?)", ",") + " ON DUPLICATE KEY UPDATE record_id = record_id";
    return s.c_str();
}

// GET /admin/records: one statement per driving index (the filter the page is a
// backward range scan of), the other filters as residual conditions whose pair of
// parameters is (NULL, NULL) when not given. Parameters of every ADMIN_RECORDS_*:
// [driver value], then the cursor, then 6 residual pairs (form_type, client_id,
// username, deleted, changed_after, changed_before), then limit.
#define ADMIN_RECORDS_RESIDUAL                                                              \
    " AND (? IS NULL OR r.schema_type = ?) AND (? IS NULL OR r.origin_client_id = ?)"      \
    " AND (? IS NULL OR r.last_modified_by = ?) AND (? IS NULL OR r.deleted = ?)"          \
    " AND (? IS NULL OR r.last_modified >= ?) AND (? IS NULL OR r.last_modified < ?)"
#define ADMIN_RECORDS_BY(index, column)                                                   \
    SYNC_PULL_COLUMNS "FORCE INDEX (" index ") WHERE r." column " = ? AND r.change_id < ?" \
    ADMIN_RECORDS_RESIDUAL " ORDER BY r.change_id DESC LIMIT ?"

struct Entry {
    Stmt id;
    const char* name;
    const char* sql;
};

const Entry kStatements[] = {
    {Stmt::USERS_SEL_BY_USERNAME, "USERS_SEL_BY_USERNAME",
     "SELECT username, password_hash, role, token_version, "
     "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM users WHERE username = ?"},
    // The user's role and token version, with one row per access token of the user
    // revoked before its exp (jti NULL when none): revocation read in one round trip.
    {Stmt::USERS_SEL_AUTH, "USERS_SEL_AUTH",
     "SELECT u.role, u.token_version, r.jti FROM users u LEFT JOIN revoked_access_tokens r "
     "ON r.username = u.username AND r.expires_at >= UNIX_TIMESTAMP() WHERE u.username = ?"},
    {Stmt::USERS_SEL_ALL, "USERS_SEL_ALL",
     "SELECT username, role, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM users ORDER BY username"},
    {Stmt::USERS_INS, "USERS_INS",
     "INSERT INTO users (username, password_hash, role, token_version, created_at) "
     "VALUES (?, ?, ?, ?, UTC_TIMESTAMP())"},
    {Stmt::USERS_DEL, "USERS_DEL", "DELETE FROM users WHERE username = ?"},
    {Stmt::USERS_UPD_PASSWORD, "USERS_UPD_PASSWORD",
     "UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE username = ?"},
    {Stmt::USERS_UPD_ROLE, "USERS_UPD_ROLE",
     "UPDATE users SET role = ?, token_version = token_version + 1 WHERE username = ?"},
    {Stmt::USERS_COUNT, "USERS_COUNT", "SELECT COUNT(*) FROM users"},
    {Stmt::USERS_SEL_ADMINS_FOR_UPDATE, "USERS_SEL_ADMINS_FOR_UPDATE",
     "SELECT username FROM users WHERE role = 'admin' FOR UPDATE"},
    {Stmt::REFRESH_INS, "REFRESH_INS",
     "INSERT INTO refresh_tokens (token_hash, family_id, username, expires_at, created_at) "
     "VALUES (?, ?, ?, ?, UNIX_TIMESTAMP())"},
    {Stmt::REFRESH_SEL_FOR_UPDATE, "REFRESH_SEL_FOR_UPDATE",
     "SELECT family_id, username, expires_at, used, revoked FROM refresh_tokens WHERE token_hash = ? FOR UPDATE"},
    {Stmt::REFRESH_MARK_USED, "REFRESH_MARK_USED", "UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?"},
    {Stmt::REFRESH_REVOKE_FAMILY, "REFRESH_REVOKE_FAMILY",
     "UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?"},
    {Stmt::REFRESH_REVOKE_USER, "REFRESH_REVOKE_USER", "UPDATE refresh_tokens SET revoked = 1 WHERE username = ?"},
    {Stmt::REFRESH_DEL_EXPIRED, "REFRESH_DEL_EXPIRED",
     "DELETE FROM refresh_tokens WHERE expires_at < UNIX_TIMESTAMP() LIMIT 1000"},
    {Stmt::LOGIN_FAIL_SEL, "LOGIN_FAIL_SEL",
     "SELECT failures, window_start FROM login_failures WHERE scope = ? AND subject = ?"},
    {Stmt::LOGIN_FAIL_UPSERT, "LOGIN_FAIL_UPSERT",
     // A window older than ? seconds starts afresh; otherwise the count grows.
     "INSERT INTO login_failures (scope, subject, window_start, failures) VALUES (?, ?, UNIX_TIMESTAMP(), 1) "
     "ON DUPLICATE KEY UPDATE "
     "failures = IF(window_start < UNIX_TIMESTAMP() - ?, 1, failures + 1), "
     "window_start = IF(window_start < UNIX_TIMESTAMP() - ?, UNIX_TIMESTAMP(), window_start)"},
    {Stmt::LOGIN_FAIL_RESET, "LOGIN_FAIL_RESET", "DELETE FROM login_failures WHERE scope = ? AND subject = ?"},
    {Stmt::LOGIN_FAIL_DEL_OLD, "LOGIN_FAIL_DEL_OLD",
     "DELETE FROM login_failures WHERE window_start < UNIX_TIMESTAMP() - ? LIMIT 1000"},
    {Stmt::SERVER_VERSION, "SERVER_VERSION", "SELECT VERSION(), DATABASE()"},
    {Stmt::SYNC_COUNTER_LOCK, "SYNC_COUNTER_LOCK", "SELECT last_change_id FROM sync_counter WHERE id = 1 FOR UPDATE"},
    {Stmt::SYNC_COUNTER_ADD, "SYNC_COUNTER_ADD", "UPDATE sync_counter SET last_change_id = ? WHERE id = 1"},
    {Stmt::SYNC_COUNTER_SEL, "SYNC_COUNTER_SEL", "SELECT last_change_id FROM sync_counter WHERE id = 1"},
    {Stmt::SYNC_RECORDS_LOCK_1, "SYNC_RECORDS_LOCK_1", sync_lock_sql<1>()},
    {Stmt::SYNC_RECORDS_LOCK_20, "SYNC_RECORDS_LOCK_20", sync_lock_sql<20>()},
    {Stmt::SYNC_RECORDS_LOCK_100, "SYNC_RECORDS_LOCK_100", sync_lock_sql<100>()},
    {Stmt::SYNC_RECORDS_LOCK_500, "SYNC_RECORDS_LOCK_500", sync_lock_sql<500>()},
    {Stmt::SYNC_RECORDS_UPSERT_1, "SYNC_RECORDS_UPSERT_1", sync_upsert_sql<1>()},
    {Stmt::SYNC_RECORDS_UPSERT_5, "SYNC_RECORDS_UPSERT_5", sync_upsert_sql<5>()},
    {Stmt::SYNC_RECORDS_UPSERT_25, "SYNC_RECORDS_UPSERT_25", sync_upsert_sql<25>()},
    {Stmt::SYNC_RECORDS_UPSERT_100, "SYNC_RECORDS_UPSERT_100", sync_upsert_sql<100>()},
    // Parameters: after, upto, limit.
    {Stmt::SYNC_PULL_ALL, "SYNC_PULL_ALL",
     SYNC_PULL_COLUMNS "WHERE r.change_id > ? AND r.change_id <= ? ORDER BY r.change_id LIMIT ?"},
    {Stmt::SYNC_PULL_TYPES_1, "SYNC_PULL_TYPES_1", sync_pull_types_sql<1>()},
    {Stmt::SYNC_PULL_TYPES_2, "SYNC_PULL_TYPES_2", sync_pull_types_sql<2>()},
    {Stmt::SYNC_PULL_TYPES_4, "SYNC_PULL_TYPES_4", sync_pull_types_sql<4>()},
    {Stmt::SYNC_PULL_TYPES_8, "SYNC_PULL_TYPES_8", sync_pull_types_sql<8>()},
    {Stmt::SYNC_PULL_TYPES_16, "SYNC_PULL_TYPES_16", sync_pull_types_sql<16>()},
    {Stmt::SYNC_CONFLICT_INS, "SYNC_CONFLICT_INS",
     "INSERT INTO sync_conflicts (record_id, schema_type, schema_version, data, hash, deleted, change_id, "
     "last_modified, last_modified_by, origin_client_id, created_at, updated_at, geolocation, client_hash, "
     "overwritten_by, overwritten_by_client, overwritten_change_id, recorded_at) "
     "SELECT id, schema_type, schema_version, data, hash, deleted, change_id, last_modified, last_modified_by, "
     "origin_client_id, created_at, updated_at, geolocation, ?, ?, ?, ?, UTC_TIMESTAMP(3) FROM sync_records "
     "WHERE id = ?"},
    {Stmt::SYNC_TX_INS, "SYNC_TX_INS",
     "INSERT INTO sync_transmissions (transmission_id, body_hash, response, created_at, expires_at) "
     "VALUES (?, ?, '', UTC_TIMESTAMP(3), ?)"},
    {Stmt::SYNC_TX_SEL, "SYNC_TX_SEL",
     "SELECT body_hash, response, expires_at FROM sync_transmissions WHERE transmission_id = ?"},
    {Stmt::SYNC_TX_SET_RESPONSE, "SYNC_TX_SET_RESPONSE",
     "UPDATE sync_transmissions SET response = ? WHERE transmission_id = ?"},
    {Stmt::SYNC_TX_DEL_ONE_EXPIRED, "SYNC_TX_DEL_ONE_EXPIRED",
     "DELETE FROM sync_transmissions WHERE transmission_id = ? AND expires_at <= UNIX_TIMESTAMP()"},
    {Stmt::SYNC_TX_DEL_EXPIRED, "SYNC_TX_DEL_EXPIRED",
     "DELETE FROM sync_transmissions WHERE expires_at <= UNIX_TIMESTAMP() LIMIT 1000"},
    {Stmt::BUNDLE_STATE_LOCK, "BUNDLE_STATE_LOCK",
     "SELECT last_version, active_version FROM bundle_state WHERE id = 1 FOR UPDATE"},
    {Stmt::BUNDLE_STATE_SET_LAST, "BUNDLE_STATE_SET_LAST", "UPDATE bundle_state SET last_version = ? WHERE id = 1"},
    {Stmt::BUNDLE_STATE_SET_ACTIVE, "BUNDLE_STATE_SET_ACTIVE",
     "UPDATE bundle_state SET active_version = ? WHERE id = 1"},
    {Stmt::BUNDLE_HEADS, "BUNDLE_HEADS",
     // The active and the newest version with their manifest hashes, in one snapshot.
     "SELECT a.version, a.manifest_hash, n.version, n.manifest_hash FROM bundle_state s "
     "LEFT JOIN bundle_versions a ON a.version = s.active_version "
     "LEFT JOIN bundle_versions n ON n.version = (SELECT MAX(version) FROM bundle_versions) WHERE s.id = 1"},
    {Stmt::BUNDLE_SEL_VERSIONS, "BUNDLE_SEL_VERSIONS",
     "SELECT v.version, v.version <=> s.active_version FROM bundle_versions v JOIN bundle_state s ON s.id = 1 "
     "ORDER BY v.version DESC"},
    {Stmt::BUNDLE_SEL_ONE, "BUNDLE_SEL_ONE",
     "SELECT version, manifest, manifest_hash, zip_sha256, zip_size, "
     "DATE_FORMAT(pushed_at, '%Y-%m-%dT%H:%i:%s.%fZ'), pushed_by FROM bundle_versions WHERE version = ?"},
    {Stmt::BUNDLE_SEL_PREVIOUS, "BUNDLE_SEL_PREVIOUS", "SELECT MAX(version) FROM bundle_versions WHERE version < ?"},
    {Stmt::BUNDLE_SEL_ZIP_SHA, "BUNDLE_SEL_ZIP_SHA", "SELECT zip_sha256 FROM bundle_versions WHERE version = ?"},
    {Stmt::BUNDLE_INS, "BUNDLE_INS",
     "INSERT INTO bundle_versions (version, manifest, manifest_hash, zip_sha256, zip_size, pushed_at, pushed_by) "
     "VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(? / 1000), ?)"},
    {Stmt::BUNDLE_DEL, "BUNDLE_DEL", "DELETE FROM bundle_versions WHERE version = ?"},
    {Stmt::BUNDLE_RETIRED_INS, "BUNDLE_RETIRED_INS",
     "INSERT INTO bundle_retired (version, retired_at) VALUES (?, UNIX_TIMESTAMP()) "
     "ON DUPLICATE KEY UPDATE retired_at = retired_at"},
    {Stmt::BUNDLE_RETIRED_SEL_DUE, "BUNDLE_RETIRED_SEL_DUE",
     "SELECT version FROM bundle_retired WHERE retired_at <= UNIX_TIMESTAMP() - ? ORDER BY version"},
    {Stmt::BUNDLE_RETIRED_DEL, "BUNDLE_RETIRED_DEL", "DELETE FROM bundle_retired WHERE version = ?"},
    // The data export (db/export_repository.h): one read-only snapshot, paged by
    // (schema_type, change_id) on sync_records_by_type_change. Without FORCE INDEX
    // MariaDB 10.11 reads a page by `ref` on schema_type alone and skips the rows of
    // all earlier pages (100 ms a page at 150,000 rows: quadratic); forced, it
    // seeks straight to change_id (a `range`, 2 ms).
    {Stmt::EXPORT_SNAPSHOT_BEGIN, "EXPORT_SNAPSHOT_BEGIN", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"},
    {Stmt::EXPORT_SNAPSHOT_END, "EXPORT_SNAPSHOT_END", "COMMIT"},
    {Stmt::EXPORT_FIRST_TYPE, "EXPORT_FIRST_TYPE", "SELECT MIN(schema_type) FROM sync_records"},
    {Stmt::EXPORT_NEXT_TYPE, "EXPORT_NEXT_TYPE", "SELECT MIN(schema_type) FROM sync_records WHERE schema_type > ?"},
    // Filtered (changed_after/changed_before on synced_at, deleted) and paged by
    // the keyset (last_modified, change_id) on sync_records_by_type_synced
    // (sql/008): a time filter is a range of that index. Parameters: type, cursor
    // time twice, cursor change_id, before, max deleted, limit. The last column is
    // the cursor time.
    {Stmt::EXPORT_SEL_DATA_PAGE, "EXPORT_SEL_DATA_PAGE",
     "SELECT change_id, data, DATE_FORMAT(last_modified, '%Y-%m-%d %H:%i:%s.%f') "
     "FROM sync_records FORCE INDEX (sync_records_by_type_synced) "
     "WHERE schema_type = ? AND (last_modified > ? OR (last_modified = ? AND change_id > ?)) "
     "AND last_modified < ? AND deleted <= ? ORDER BY last_modified, change_id LIMIT ?"},
    {Stmt::EXPORT_SEL_ROW_PAGE, "EXPORT_SEL_ROW_PAGE",
     "SELECT change_id, id, schema_version, created_at, updated_at, "
     "CONCAT(LEFT(DATE_FORMAT(last_modified, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'), deleted, geolocation, "
     "last_modified_by, data, DATE_FORMAT(last_modified, '%Y-%m-%d %H:%i:%s.%f') "
     "FROM sync_records FORCE INDEX (sync_records_by_type_synced) "
     "WHERE schema_type = ? AND (last_modified > ? OR (last_modified = ? AND change_id > ?)) "
     "AND last_modified < ? AND deleted <= ? ORDER BY last_modified, change_id LIMIT ?"},
    // One-time download links (sql/008). The claim is one statement, so two
    // workers or hosts presenting the same link cannot both win it.
    {Stmt::EXPORT_LINK_INS, "EXPORT_LINK_INS",
     "INSERT INTO export_links (token_hash, format, params, created_by, expires_at) VALUES (?, ?, ?, ?, ?)"},
    {Stmt::EXPORT_LINK_CLAIM, "EXPORT_LINK_CLAIM",
     "UPDATE export_links SET used_at = UNIX_TIMESTAMP() "
     "WHERE token_hash = ? AND used_at IS NULL AND expires_at >= UNIX_TIMESTAMP()"},
    {Stmt::EXPORT_LINK_SEL, "EXPORT_LINK_SEL",
     "SELECT format, params, used_at IS NULL AND expires_at >= UNIX_TIMESTAMP() FROM export_links WHERE token_hash = ?"},
    {Stmt::EXPORT_LINK_DEL_EXPIRED, "EXPORT_LINK_DEL_EXPIRED",
     "DELETE FROM export_links WHERE expires_at < UNIX_TIMESTAMP() - 3600"},
    {Stmt::ATT_SEL_ONE, "ATT_SEL_ONE",
     "SELECT attachment_id, sha256, size, content_type, deleted, version FROM attachments WHERE attachment_id = ?"},
    {Stmt::ATT_SEL_ONE_FOR_UPDATE, "ATT_SEL_ONE_FOR_UPDATE",
     "SELECT attachment_id, sha256, size, content_type, deleted, version FROM attachments WHERE attachment_id = ? "
     "FOR UPDATE"},
    {Stmt::ATT_MARK_DELETED, "ATT_MARK_DELETED",
     "UPDATE attachments SET deleted = 1, version = ?, changed_at = UTC_TIMESTAMP(3), changed_by = ? "
     "WHERE attachment_id = ?"},
    {Stmt::ATT_SEL_CHANGES, "ATT_SEL_CHANGES",
     "SELECT attachment_id, sha256, size, content_type, deleted, version FROM attachments "
     "WHERE version > ? AND version <= ? ORDER BY version"},
    {Stmt::ATT_SEL_LIVE, "ATT_SEL_LIVE",
     "SELECT attachment_id, sha256, size, content_type, deleted, version FROM attachments WHERE deleted = 0 "
     "ORDER BY attachment_id"},
    {Stmt::ATT_COUNT_LIVE_BY_SHA, "ATT_COUNT_LIVE_BY_SHA",
     "SELECT COUNT(*) FROM attachments WHERE sha256 = ? AND deleted = 0"},
    // Named by a live record: kept by pushes in attachment_refs (one index probe).
    {Stmt::ATT_REFERENCED, "ATT_REFERENCED", "SELECT 1 FROM attachment_refs WHERE attachment_id = ? LIMIT 1"},
    // The live attachments' count and bytes (sql/012_attachment_totals.sql): an upload
    // that makes an id live adds (1, size), a deletion (-1, -size).
    {Stmt::ATT_TOTALS_ADD, "ATT_TOTALS_ADD",
     "INSERT INTO attachment_totals (id, attachments, bytes) VALUES (1, ?, ?) "
     "ON DUPLICATE KEY UPDATE attachments = attachments + VALUES(attachments), bytes = bytes + VALUES(bytes)"},
    {Stmt::ATT_RETIRED_INS, "ATT_RETIRED_INS",
     "INSERT INTO attachment_files_retired (sha256, retired_at) VALUES (?, UNIX_TIMESTAMP()) "
     "ON DUPLICATE KEY UPDATE retired_at = UNIX_TIMESTAMP()"},
    {Stmt::ATT_RETIRED_SEL_DUE, "ATT_RETIRED_SEL_DUE",
     "SELECT sha256 FROM attachment_files_retired WHERE retired_at <= UNIX_TIMESTAMP() - ? LIMIT 100"},
    {Stmt::ATT_RETIRED_DEL, "ATT_RETIRED_DEL", "DELETE FROM attachment_files_retired WHERE sha256 = ?"},
    // An upload's first statement (issue 18): locks the change counter row and raises it,
    // and adds to the live totals, in one round trip (services/attachment_store.cpp).
    // sync_counter is named first so its row is locked first, as every other writer of
    // the counter does. Matches no row when attachment_totals has none (ATT_TOTALS_ADD).
    // Parameters: attachments, bytes.
    {Stmt::ATT_RAISE_COUNTER_AND_TOTALS, "ATT_RAISE_COUNTER_AND_TOTALS",
     "UPDATE sync_counter c, attachment_totals t SET c.last_change_id = c.last_change_id + 1, "
     "t.attachments = t.attachments + ?, t.bytes = t.bytes + ? WHERE c.id = 1 AND t.id = 1"},
    // The upload's row, with the counter as raised above as its version, unless the id is
    // live: a live row is left exactly as it is (0 rows affected), an absent id is
    // inserted (1), a deleted one made live again (2). `deleted` is assigned last: the
    // assignments before it read the row's old value. Parameters: id, sha256, size,
    // content_type, changed_by.
    {Stmt::ATT_INSERT_IF_NOT_LIVE, "ATT_INSERT_IF_NOT_LIVE",
     "INSERT INTO attachments (attachment_id, sha256, size, content_type, deleted, version, changed_at, changed_by) "
     "SELECT ?, ?, ?, ?, 0, last_change_id, UTC_TIMESTAMP(3), ? FROM sync_counter WHERE id = 1 "
     "ON DUPLICATE KEY UPDATE sha256 = IF(deleted, VALUES(sha256), sha256), size = IF(deleted, VALUES(size), size), "
     "content_type = IF(deleted, VALUES(content_type), content_type), version = IF(deleted, VALUES(version), version), "
     "changed_at = IF(deleted, VALUES(changed_at), changed_at), changed_by = IF(deleted, VALUES(changed_by), changed_by), "
     "deleted = 0"},
    // The two statements above and the START TRANSACTION before them in one round trip
    // (issue 18): the procedure of sql/013_attachment_put.sql. Parameters: begin (1: the
    // procedure opens the transaction), id, sha256, size, content_type, changed_by.
    // Answers one row: the INSERT's affected rows (as ATT_INSERT_IF_NOT_LIVE's).
    {Stmt::ATT_PUT, "ATT_PUT", "CALL attachment_put(?, ?, ?, ?, ?, ?)"},
    {Stmt::HIST_INS_1, "HIST_INS_1", history_ins_sql<1>()},
    {Stmt::HIST_INS_20, "HIST_INS_20", history_ins_sql<20>()},
    {Stmt::HIST_INS_100, "HIST_INS_100", history_ins_sql<100>()},
    {Stmt::HIST_INS_500, "HIST_INS_500", history_ins_sql<500>()},
    // Parameters: record id, limit. Newest first: a backward scan of the primary key.
    {Stmt::HIST_SEL_RECORD, "HIST_SEL_RECORD",
     "SELECT change_id, hash, deleted, data, created_at, updated_at, geolocation, modified_by, client_id, "
     "CONCAT(LEFT(DATE_FORMAT(synced_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'), replaced_by "
     "FROM sync_record_history WHERE record_id = ? ORDER BY change_id DESC LIMIT ?"},
    // Parameter: days to keep (0 deletes everything). The oldest slice of at most 1000
    // rows, by history_id (= replaced_at order, sql/007): the last of them that is due
    // bounds the delete, so a run reads one slice, never the whole table.
    {Stmt::HIST_DEL_OLD, "HIST_DEL_OLD",
     "DELETE FROM sync_record_history WHERE history_id <= (SELECT COALESCE(MAX(s.history_id), 0) FROM "
     "(SELECT history_id, replaced_at FROM sync_record_history ORDER BY history_id LIMIT 1000) s "
     "WHERE s.replaced_at < UTC_TIMESTAMP(3) - INTERVAL ? DAY) LIMIT 1000"},
    {Stmt::REFS_DEL_RECORDS_1, "REFS_DEL_RECORDS_1", refs_del_sql<1>()},
    {Stmt::REFS_DEL_RECORDS_20, "REFS_DEL_RECORDS_20", refs_del_sql<20>()},
    {Stmt::REFS_DEL_RECORDS_100, "REFS_DEL_RECORDS_100", refs_del_sql<100>()},
    {Stmt::REFS_DEL_RECORDS_500, "REFS_DEL_RECORDS_500", refs_del_sql<500>()},
    {Stmt::REFS_INS_1, "REFS_INS_1", refs_ins_sql<1>()},
    {Stmt::REFS_INS_5, "REFS_INS_5", refs_ins_sql<5>()},
    {Stmt::REFS_INS_25, "REFS_INS_25", refs_ins_sql<25>()},
    {Stmt::REFS_INS_100, "REFS_INS_100", refs_ins_sql<100>()},
    // Parameters: attachment id, limit.
    {Stmt::REFS_SEL_BY_ATTACHMENT, "REFS_SEL_BY_ATTACHMENT",
     "SELECT record_id FROM attachment_refs WHERE attachment_id = ? ORDER BY record_id LIMIT ?"},
    // The cursor is change_id < ? (the first page passes the largest BIGINT).
    {Stmt::ADMIN_RECORDS_ALL, "ADMIN_RECORDS_ALL",
     SYNC_PULL_COLUMNS "FORCE INDEX (sync_records_by_change) WHERE r.change_id < ?" ADMIN_RECORDS_RESIDUAL
     " ORDER BY r.change_id DESC LIMIT ?"},
    {Stmt::ADMIN_RECORDS_BY_TYPE, "ADMIN_RECORDS_BY_TYPE",
     ADMIN_RECORDS_BY("sync_records_by_type_change", "schema_type")},
    {Stmt::ADMIN_RECORDS_BY_CLIENT, "ADMIN_RECORDS_BY_CLIENT",
     ADMIN_RECORDS_BY("sync_records_by_client_change", "origin_client_id")},
    {Stmt::ADMIN_RECORDS_BY_USER, "ADMIN_RECORDS_BY_USER",
     ADMIN_RECORDS_BY("sync_records_by_user_change", "last_modified_by")},
    {Stmt::ADMIN_RECORDS_BY_DELETED, "ADMIN_RECORDS_BY_DELETED",
     ADMIN_RECORDS_BY("sync_records_by_deleted_change", "deleted")},
    // A time filter drives by synced_at: newest synced_at first, then change_id (the
    // same order but for pushes committed within the same moment; openapi.yaml).
    // Cursor parameters: synced_at, synced_at, change_id.
    {Stmt::ADMIN_RECORDS_BY_SYNCED, "ADMIN_RECORDS_BY_SYNCED",
     SYNC_PULL_COLUMNS "FORCE INDEX (sync_records_by_synced) "
     "WHERE (r.last_modified < ? OR (r.last_modified = ? AND r.change_id < ?))" ADMIN_RECORDS_RESIDUAL
     " ORDER BY r.last_modified DESC, r.change_id DESC LIMIT ?"},
    {Stmt::ADMIN_RECORD_SEL_ONE, "ADMIN_RECORD_SEL_ONE", SYNC_PULL_COLUMNS "WHERE r.id = ?"},
    // Live attachments, newest version first. Parameters: version cursor, limit.
    {Stmt::ADMIN_ATT_PAGE, "ADMIN_ATT_PAGE",
     "SELECT a.attachment_id, a.size, a.content_type, a.sha256, a.changed_by, "
     "CONCAT(LEFT(DATE_FORMAT(a.changed_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'), a.version, "
     "(SELECT COUNT(*) FROM attachment_refs f WHERE f.attachment_id = a.attachment_id) "
     "FROM attachments a FORCE INDEX (attachments_by_deleted_version) WHERE a.deleted = 0 AND a.version < ? "
     "ORDER BY a.version DESC LIMIT ?"},
    // The same, only those no live record names: one primary-key probe of
    // attachment_refs per attachment, never a scan of the records.
    {Stmt::ADMIN_ATT_PAGE_UNREFERENCED, "ADMIN_ATT_PAGE_UNREFERENCED",
     "SELECT a.attachment_id, a.size, a.content_type, a.sha256, a.changed_by, "
     "CONCAT(LEFT(DATE_FORMAT(a.changed_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'), a.version, 0 "
     "FROM attachments a FORCE INDEX (attachments_by_deleted_version) WHERE a.deleted = 0 AND a.version < ? "
     "AND NOT EXISTS (SELECT 1 FROM attachment_refs f WHERE f.attachment_id = a.attachment_id) "
     "ORDER BY a.version DESC LIMIT ?"},
    // Administration (issue 15 part A).
    {Stmt::USERS_UPD_PASSWORD_NON_ADMIN, "USERS_UPD_PASSWORD_NON_ADMIN",
     "UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE username = ? AND role <> 'admin'"},
    {Stmt::USERS_ADMIN_GUARD_BUMP, "USERS_ADMIN_GUARD_BUMP", "UPDATE admin_guard SET changes = changes + 1 WHERE id = 1"},
    {Stmt::AUDIT_INS, "AUDIT_INS",
     "INSERT INTO audit_log (at, actor, action, target, detail, address, request_id) "
     "VALUES (UTC_TIMESTAMP(3), ?, ?, ?, ?, ?, ?)"},
    // Pages newest first by id. Parameters: [actor,] [action,] below id, after, before, limit.
    // Each filter reads its own index ((actor, id), (action, id)) from the cursor down.
#define AUDIT_COLUMNS                                                                                     \
    "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ'), actor, action, target, detail, address, request_id " \
    "FROM audit_log "
#define AUDIT_RANGE " id < ? AND at > ? AND at < ? ORDER BY id DESC LIMIT ?"
    {Stmt::AUDIT_SEL_PAGE, "AUDIT_SEL_PAGE", AUDIT_COLUMNS "WHERE" AUDIT_RANGE},
    {Stmt::AUDIT_SEL_PAGE_ACTOR, "AUDIT_SEL_PAGE_ACTOR", AUDIT_COLUMNS "WHERE actor = ? AND" AUDIT_RANGE},
    {Stmt::AUDIT_SEL_PAGE_ACTION, "AUDIT_SEL_PAGE_ACTION", AUDIT_COLUMNS "WHERE action = ? AND" AUDIT_RANGE},
    {Stmt::AUDIT_SEL_PAGE_ACTOR_ACTION, "AUDIT_SEL_PAGE_ACTOR_ACTION",
     AUDIT_COLUMNS "FORCE INDEX (audit_by_actor) WHERE actor = ? AND action = ? AND" AUDIT_RANGE},
#undef AUDIT_COLUMNS
#undef AUDIT_RANGE
    {Stmt::AUDIT_DEL_OLD, "AUDIT_DEL_OLD", "DELETE FROM audit_log WHERE at < UTC_TIMESTAMP() - INTERVAL ? DAY LIMIT 1000"},
    {Stmt::REVOKED_JTI_INS, "REVOKED_JTI_INS",
     "INSERT IGNORE INTO revoked_access_tokens (jti, username, expires_at) VALUES (?, ?, ?)"},
    {Stmt::REVOKED_JTI_DEL_EXPIRED, "REVOKED_JTI_DEL_EXPIRED",
     "DELETE FROM revoked_access_tokens WHERE expires_at < UNIX_TIMESTAMP() LIMIT 1000"},
    // A worker's pending presence of one device, written only when no worker wrote the
    // row within the last ? ms (presence_interval). Assignments run left to right on
    // the updated row, so the cursor and generation (kept only from a request newer
    // than the stored one) are set before last_seen. Times are unix ms, NULL when the
    // worker saw no such request; the generation is NULL when the request did not say
    // (a pull without a cursor). Parameters: seen, generation, pull_at, cursor, seen,
    // push_at, push_at, pull_at, pull_at, pushes, records, username, client_id,
    // interval ms.
    {Stmt::PRESENCE_UPD, "PRESENCE_UPD",
     "UPDATE device_presence SET "
     "generation = IF(FROM_UNIXTIME(? / 1000) >= last_seen, COALESCE(?, generation), generation), "
     "pull_cursor = IF(FROM_UNIXTIME(? / 1000) >= COALESCE(last_pull_at, '1970-01-01'), COALESCE(?, pull_cursor), pull_cursor), "
     "last_seen = GREATEST(last_seen, FROM_UNIXTIME(? / 1000)), "
     "last_push_at = COALESCE(GREATEST(last_push_at, FROM_UNIXTIME(? / 1000)), last_push_at, FROM_UNIXTIME(? / 1000)), "
     "last_pull_at = COALESCE(GREATEST(last_pull_at, FROM_UNIXTIME(? / 1000)), last_pull_at, FROM_UNIXTIME(? / 1000)), "
     "pushes = pushes + ?, records_pushed = records_pushed + ?, username = ?, written_at = UTC_TIMESTAMP(3) "
     "WHERE client_id = ? AND written_at <= UTC_TIMESTAMP(3) - INTERVAL ? * 1000 MICROSECOND"},
    {Stmt::PRESENCE_INS, "PRESENCE_INS",
     "INSERT IGNORE INTO device_presence (client_id, username, generation, first_seen, last_seen, last_push_at, "
     "last_pull_at, pull_cursor, pushes, records_pushed, written_at) VALUES (?, ?, COALESCE(?, 'records'), FROM_UNIXTIME(? / 1000), "
     "FROM_UNIXTIME(? / 1000), FROM_UNIXTIME(? / 1000), FROM_UNIXTIME(? / 1000), ?, ?, ?, UTC_TIMESTAMP(3))"},
    // Most recently seen first; the key is (last_seen, client_id). Parameters: [last
    // seen, last seen, client_id,] limit.
#define PRESENCE_COLUMNS                                                                                   \
    "SELECT client_id, username, generation, DATE_FORMAT(first_seen, '%Y-%m-%dT%H:%i:%s.%fZ'), "          \
    "DATE_FORMAT(last_seen, '%Y-%m-%dT%H:%i:%s.%fZ'), DATE_FORMAT(last_push_at, '%Y-%m-%dT%H:%i:%s.%fZ'), " \
    "DATE_FORMAT(last_pull_at, '%Y-%m-%dT%H:%i:%s.%fZ'), pull_cursor, pushes, records_pushed, "            \
    "DATE_FORMAT(last_seen, '%Y-%m-%d %H:%i:%s.%f') FROM device_presence "
    {Stmt::PRESENCE_SEL_FIRST, "PRESENCE_SEL_FIRST",
     PRESENCE_COLUMNS "ORDER BY last_seen DESC, client_id DESC LIMIT ?"},
    {Stmt::PRESENCE_SEL_AFTER, "PRESENCE_SEL_AFTER",
     PRESENCE_COLUMNS "WHERE last_seen < ? OR (last_seen = ? AND client_id < ?) "
     "ORDER BY last_seen DESC, client_id DESC LIMIT ?"},
#undef PRESENCE_COLUMNS
    {Stmt::OVERVIEW_CACHE_SEL, "OVERVIEW_CACHE_SEL", "SELECT body, computed_at FROM overview_cache WHERE id = 1"},
    {Stmt::OVERVIEW_CACHE_SET, "OVERVIEW_CACHE_SET",
     "INSERT INTO overview_cache (id, body, computed_at) VALUES (1, ?, ?) "
     "ON DUPLICATE KEY UPDATE body = VALUES(body), computed_at = VALUES(computed_at)"},
    {Stmt::OVERVIEW_COUNT_DEVICES, "OVERVIEW_COUNT_DEVICES",
     "SELECT COUNT(*), COALESCE(SUM(last_seen >= UTC_TIMESTAMP() - INTERVAL 1 DAY), 0) FROM device_presence"},
    {Stmt::OVERVIEW_COUNT_ATTACHMENTS, "OVERVIEW_COUNT_ATTACHMENTS",
     "SELECT attachments, bytes FROM attachment_totals WHERE id = 1"},
    // The counts kept by pushes (sql/011_record_counts.sql), and per form type the
    // latest synced_at: the last entry of the type's range of sync_records_by_type_synced
    // (one index dive per form type, however many records it has).
    {Stmt::OVERVIEW_FORM_TYPES, "OVERVIEW_FORM_TYPES",
     "SELECT c.form_type, SUM(c.records), SUM(IF(c.deleted = 1, c.records, 0)), "
     "(SELECT DATE_FORMAT(s.last_modified, '%Y-%m-%dT%H:%i:%s.%fZ') FROM sync_records s "
     "FORCE INDEX (sync_records_by_type_synced) WHERE s.schema_type = c.form_type "
     "ORDER BY s.last_modified DESC LIMIT 1) "
     "FROM record_counts c GROUP BY c.form_type HAVING SUM(c.records) > 0 ORDER BY c.form_type"},
    {Stmt::OVERVIEW_ACTIVE_BUNDLE, "OVERVIEW_ACTIVE_BUNDLE", "SELECT active_version FROM bundle_state WHERE id = 1"},
    // One (form type, deleted) row's change by a push (domain/record_counts.h).
    {Stmt::RECORD_COUNTS_ADD, "RECORD_COUNTS_ADD",
     "INSERT INTO record_counts (form_type, deleted, records) VALUES (?, ?, ?) "
     "ON DUPLICATE KEY UPDATE records = records + VALUES(records)"},
};
static_assert(sizeof(kStatements) / sizeof(kStatements[0]) == static_cast<size_t>(Stmt::COUNT_),
              "every Stmt needs its SQL");
}  // namespace

bool statements_in_order() {
    for (size_t i = 0; i < sizeof(kStatements) / sizeof(kStatements[0]); ++i)
        if (static_cast<size_t>(kStatements[i].id) != i) return false;
    return true;
}

Stmt sync_stmt(SyncBatch kind, size_t size) {
    const auto pick = [size](const auto& sizes, Stmt first) {
        for (size_t i = 0; i < std::size(sizes); ++i)
            if (sizes[i] == size) return static_cast<Stmt>(static_cast<size_t>(first) + i);
        throw std::invalid_argument("no sync statement of size " + std::to_string(size));
    };
    switch (kind) {
        case SyncBatch::lock: return pick(kSyncLockSizes, Stmt::SYNC_RECORDS_LOCK_1);
        case SyncBatch::upsert: return pick(kSyncUpsertSizes, Stmt::SYNC_RECORDS_UPSERT_1);
        case SyncBatch::filter: return pick(kSyncFilterSizes, Stmt::SYNC_PULL_TYPES_1);
    }
    throw std::invalid_argument("unknown sync batch kind");
}

Stmt refs_stmt(RefsBatch kind, size_t size) {
    const auto pick = [size](const auto& sizes, Stmt first) {
        for (size_t i = 0; i < std::size(sizes); ++i)
            if (sizes[i] == size) return static_cast<Stmt>(static_cast<size_t>(first) + i);
        throw std::invalid_argument("no refs statement of size " + std::to_string(size));
    };
    switch (kind) {
        case RefsBatch::history: return pick(kSyncLockSizes, Stmt::HIST_INS_1);
        case RefsBatch::delete_refs: return pick(kSyncLockSizes, Stmt::REFS_DEL_RECORDS_1);
        case RefsBatch::insert_refs: return pick(kSyncUpsertSizes, Stmt::REFS_INS_1);
    }
    throw std::invalid_argument("unknown refs batch kind");
}

const char* raw_statement_sql(RawStmt id) {
    switch (id) {
        case RawStmt::LEASE_CREATE: return "INSERT IGNORE INTO job_leases (name, holder, expires_at) VALUES (?, '', 0)";
        case RawStmt::LEASE_TAKE:
            // `takes` changes on every take, so a renewal within the same second still
            // counts as an affected row.
            return "UPDATE job_leases SET holder = ?, expires_at = UNIX_TIMESTAMP() + ?, takes = takes + 1 "
                   "WHERE name = ? AND (expires_at <= UNIX_TIMESTAMP() OR holder = ?)";
        case RawStmt::LEASE_RELEASE: return "UPDATE job_leases SET expires_at = 0 WHERE name = ? AND holder = ?";
        case RawStmt::LEASE_SEL: return "SELECT holder, expires_at - UNIX_TIMESTAMP() FROM job_leases WHERE name = ?";
        case RawStmt::MIGRATIONS_TABLE:
            return "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
                   " checksum CHAR(64) NOT NULL, applied_at DATETIME NOT NULL) ENGINE=InnoDB";
        case RawStmt::MIGRATION_SEL: return "SELECT name, checksum FROM schema_migrations WHERE version = ?";
        case RawStmt::MIGRATION_INS:
            return "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP())";
        case RawStmt::SYNC_WAIT_ON: return "SET SESSION wsrep_sync_wait = 1";
        case RawStmt::MIGRATION_LIST: return "SELECT version, name FROM schema_migrations ORDER BY version";
        case RawStmt::REFS_BACKFILL_SEL:
            return "SELECT id, data, deleted FROM sync_records WHERE id > ? ORDER BY id LIMIT ? FOR UPDATE";
        // After the fills of sql/011 and sql/012, which db::recount_records reads from
        // those files: the records it counted.
        case RawStmt::RECOUNT_TOTAL: return "SELECT COALESCE(SUM(records), 0) FROM record_counts";
    }
    throw std::invalid_argument("unknown raw statement");
}

namespace {
std::string placeholders(size_t n, const char* one) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.append(i ? "," : "").append(one);
    return s;
}
}  // namespace

std::string refs_backfill_delete_sql(size_t records) {
    return "DELETE FROM attachment_refs WHERE record_id IN (" + placeholders(records, "?") + ")";
}

std::string refs_backfill_insert_sql(size_t pairs) {
    return "INSERT INTO attachment_refs (attachment_id, record_id) VALUES " + placeholders(pairs, "(?,?)") +
           " ON DUPLICATE KEY UPDATE record_id = record_id";
}


const char* statement_sql(Stmt id) { return kStatements[static_cast<size_t>(id)].sql; }
const char* statement_name(Stmt id) { return kStatements[static_cast<size_t>(id)].name; }

}  // namespace db
