// All SQL of the application in one place, keyed by id. Every statement is prepared
// when a connection opens, so a schema that does not match the code fails at
// start-up rather than on the first request that happens to use it.
#pragma once

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
    ATT_SEL_ONE,
    ATT_SEL_ONE_FOR_UPDATE,
    ATT_UPSERT,
    ATT_MARK_DELETED,
    ATT_SEL_CHANGES,
    ATT_SEL_LIVE,
    ATT_COUNT_LIVE_BY_SHA,
    ATT_REFERENCED,
    ATT_RETIRED_INS,
    ATT_RETIRED_SEL_DUE,
    ATT_RETIRED_DEL,
    COUNT_  // keep last
};

const char* statement_sql(Stmt id);
const char* statement_name(Stmt id);
// True when the table lists the statements in enum order (checked by a unit test).
bool statements_in_order();

}  // namespace db
