// All SQL of the application in one place, keyed by id. Every statement is prepared
// when a connection opens, so a schema that does not match the code fails at
// start-up rather than on the first request that happens to use it.
#pragma once
#include <cstddef>
#include <string>

namespace db {

enum class Stmt {
    USERS_SEL_BY_USERNAME,
    USERS_SEL_AUTH,
    USERS_SEL_ALL,
    USERS_INS,
    USERS_DEL,
    USERS_UPD_PASSWORD,
    USERS_UPD_ROLE,
    USERS_COUNT,
    USERS_SEL_ADMINS_FOR_UPDATE,
    REFRESH_INS,
    REFRESH_SEL_FOR_UPDATE,
    REFRESH_MARK_USED,
    REFRESH_REVOKE_FAMILY,
    REFRESH_REVOKE_USER,
    REFRESH_DEL_EXPIRED,
    LOGIN_FAIL_SEL,
    LOGIN_FAIL_UPSERT,
    LOGIN_FAIL_RESET,
    LOGIN_FAIL_DEL_OLD,
    SERVER_VERSION,
    SYNC_COUNTER_LOCK,
    SYNC_COUNTER_ADD,
    SYNC_COUNTER_SEL,
    // Batches come in a few fixed sizes (kSyncLockSizes, kSyncUpsertSizes,
    // kSyncFilterSizes), each its own prepared statement; see sync_stmt().
    SYNC_RECORDS_LOCK_1,
    SYNC_RECORDS_LOCK_20,
    SYNC_RECORDS_LOCK_100,
    SYNC_RECORDS_LOCK_500,
    SYNC_RECORDS_UPSERT_1,
    SYNC_RECORDS_UPSERT_5,
    SYNC_RECORDS_UPSERT_25,
    SYNC_RECORDS_UPSERT_100,
    SYNC_PULL_ALL,
    SYNC_PULL_TYPES_1,
    SYNC_PULL_TYPES_2,
    SYNC_PULL_TYPES_4,
    SYNC_PULL_TYPES_8,
    SYNC_PULL_TYPES_16,
    SYNC_CONFLICT_INS,
    SYNC_TX_INS,
    SYNC_TX_SEL,
    SYNC_TX_SET_RESPONSE,
    SYNC_TX_DEL_ONE_EXPIRED,
    SYNC_TX_DEL_EXPIRED,
    BUNDLE_STATE_LOCK,
    BUNDLE_STATE_SET_LAST,
    BUNDLE_STATE_SET_ACTIVE,
    BUNDLE_HEADS,
    BUNDLE_SEL_VERSIONS,
    BUNDLE_SEL_ONE,
    BUNDLE_SEL_PREVIOUS,
    BUNDLE_SEL_ZIP_SHA,
    BUNDLE_INS,
    BUNDLE_DEL,
    BUNDLE_RETIRED_INS,
    BUNDLE_RETIRED_SEL_DUE,
    BUNDLE_RETIRED_DEL,
    EXPORT_SNAPSHOT_BEGIN,
    EXPORT_SNAPSHOT_END,
    EXPORT_FIRST_TYPE,
    EXPORT_NEXT_TYPE,
    EXPORT_SEL_DATA_PAGE,
    EXPORT_SEL_ROW_PAGE,
    // Download links (sql/008)
    EXPORT_LINK_INS,
    EXPORT_LINK_CLAIM,
    EXPORT_LINK_SEL,
    EXPORT_LINK_DEL_EXPIRED,
    ATT_SEL_ONE,
    ATT_SEL_ONE_FOR_UPDATE,
    ATT_MARK_DELETED,
    ATT_SEL_CHANGES,
    ATT_SEL_LIVE,
    ATT_COUNT_LIVE_BY_SHA,
    ATT_REFERENCED,
    ATT_TOTALS_ADD,
    ATT_RETIRED_INS,
    ATT_RETIRED_SEL_DUE,
    ATT_RETIRED_DEL,
    ATT_RAISE_COUNTER_AND_TOTALS,
    ATT_INSERT_IF_NOT_LIVE,
    ATT_PUT,
    // Record history, attachment references and the admin record/attachment lists
    // (CONTRACT section 8; db/record_admin_repository.h).
    HIST_INS_1,
    HIST_INS_20,
    HIST_INS_100,
    HIST_INS_500,
    HIST_SEL_RECORD,
    HIST_DEL_OLD,
    REFS_DEL_RECORDS_1,
    REFS_DEL_RECORDS_20,
    REFS_DEL_RECORDS_100,
    REFS_DEL_RECORDS_500,
    REFS_INS_1,
    REFS_INS_5,
    REFS_INS_25,
    REFS_INS_100,
    REFS_SEL_BY_ATTACHMENT,
    ADMIN_RECORDS_ALL,
    ADMIN_RECORDS_BY_TYPE,
    ADMIN_RECORDS_BY_CLIENT,
    ADMIN_RECORDS_BY_USER,
    ADMIN_RECORDS_BY_DELETED,
    ADMIN_RECORDS_BY_SYNCED,
    ADMIN_RECORD_SEL_ONE,
    ADMIN_ATT_PAGE,
    ADMIN_ATT_PAGE_UNREFERENCED,
    // Administration (issue 15 part A): audit log, revoked access tokens, device
    // presence, the overview.
    USERS_UPD_PASSWORD_NON_ADMIN,
    USERS_ADMIN_GUARD_BUMP,
    AUDIT_INS,
    AUDIT_SEL_PAGE,
    AUDIT_SEL_PAGE_ACTOR,
    AUDIT_SEL_PAGE_ACTION,
    AUDIT_SEL_PAGE_ACTOR_ACTION,
    AUDIT_DEL_OLD,
    REVOKED_JTI_INS,
    REVOKED_JTI_DEL_EXPIRED,
    PRESENCE_UPD,
    PRESENCE_INS,
    PRESENCE_SEL_FIRST,
    PRESENCE_SEL_AFTER,
    OVERVIEW_CACHE_SEL,
    OVERVIEW_CACHE_SET,
    OVERVIEW_COUNT_DEVICES,
    OVERVIEW_COUNT_ATTACHMENTS,
    OVERVIEW_FORM_TYPES,
    OVERVIEW_ACTIVE_BUNDLE,
    RECORD_COUNTS_ADD,
    COUNT_  // keep last
};

// Ascending sizes of the batch statements. A FOR UPDATE lookup of n ids uses the
// smallest size >= n (the largest for more), padded with '' (no id is empty); an
// upsert is split greedily into these sizes; a filtered pull's types are padded
// with '' (no schema type is empty) and go 16 at a time.
inline constexpr size_t kSyncLockSizes[] = {1, 20, 100, 500};
inline constexpr size_t kSyncUpsertSizes[] = {1, 5, 25, 100};
inline constexpr size_t kSyncFilterSizes[] = {1, 2, 4, 8, 16};
// Columns bound per upserted row.
inline constexpr unsigned kSyncUpsertColumns = 13;

enum class SyncBatch { lock, upsert, filter };
// History inserts and reference deletes take the record ids in kSyncLockSizes
// (padded with ''); reference inserts go in kSyncUpsertSizes rows.
enum class RefsBatch { history, delete_refs, insert_refs };
Stmt refs_stmt(RefsBatch kind, size_t size);
// The statement of `kind` for exactly `size` (one of that kind's sizes).
Stmt sync_stmt(SyncBatch kind, size_t size);

// Statements run on the raw connection and prepared per use: the lease's and the
// migration runner's, which run before the migrations have made the tables that the
// statements above (prepared on open) need.
enum class RawStmt {
    LEASE_CREATE,
    LEASE_TAKE,
    LEASE_RELEASE,
    LEASE_SEL,
    MIGRATIONS_TABLE,  // the runner's own bookkeeping, made before any migration
    MIGRATION_SEL,
    MIGRATION_INS,
    SYNC_WAIT_ON,
    MIGRATION_LIST,     // every applied migration, to refuse a database a newer release migrated
    REFS_BACKFILL_SEL,  // migration 007's backfill of attachment_refs, a batch at a time
    // `synkronus-admin records recount`: the records counted, after migrations 011's
    // and 012's fills (db::recount_records reads them from their files)
    RECOUNT_TOTAL,
};
const char* raw_statement_sql(RawStmt id);
// The backfill's DELETE of `records` records' references and INSERT of `pairs` references.
std::string refs_backfill_delete_sql(size_t records);
std::string refs_backfill_insert_sql(size_t pairs);

const char* statement_sql(Stmt id);
const char* statement_name(Stmt id);
// True when the table lists the statements in enum order (checked by a unit test).
bool statements_in_order();

// The smallest of `sizes` (ascending) that holds n, or the largest.
template <size_t K>
size_t size_for(const size_t (&sizes)[K], size_t n) {
    for (size_t s : sizes)
        if (s >= n) return s;
    return sizes[K - 1];
}

}  // namespace db
