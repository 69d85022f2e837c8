// The statements of sync: records, the change counter, kept conflicts and stored
// push responses. Runs statements only; the transaction, its retries and the push
// policy belong to services::SyncService and domain/push_policy.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"
#include "domain/push_policy.h"
#include "domain/record_counts.h"
#include "domain/sync_request.h"

namespace db {

// The columns of SYNC_PULL_COLUMNS (db/statements.cpp) as a record.
StoredRecord read_stored_record(sql::ResultSet& rs);
// "2026-11-28 21:09:34.123", the DATETIME(3) of unix milliseconds.
std::string sql_datetime_ms(int64_t ms);

class SyncRepository {
public:
    explicit SyncRepository(Tx& tx) : tx_(tx) {}

    // Inserts the transmission row; throws db::Error `duplicate` when the id is taken.
    void claim_transmission(const std::string& transmission_id, const std::string& fingerprint, int64_t expires_at);
    std::optional<StoredTransmission> find_transmission(const std::string& transmission_id);
    void delete_transmission_if_expired(const std::string& transmission_id);
    void store_response(const std::string& transmission_id, const std::string& response);

    void delete_expired_transmissions();

    // The counter row, locked until the transaction ends; read without a lock; raised.
    int64_t lock_counter();
    int64_t read_counter();
    void set_counter(int64_t last_change_id);

    // The stored state of `ids`, rows locked until the transaction ends.
    std::map<std::string, domain::StoredState> lock_records(const std::vector<std::string>& ids);
    // Copies the stored row of `id` into the conflicts table before it is overwritten.
    void keep_overwritten(const domain::OverwrittenVersion& v, const PushOrigin& origin, int64_t overwritten_change_id);
    // Writes `records`, the i-th with change id first_change_id + i.
    void upsert(const std::vector<domain::PushWrite>& records, int64_t first_change_id,
                const PushOrigin& origin);
    // Adds a push's changes to the record counts (record_counts), one row each.
    void add_record_counts(const std::vector<domain::CountChange>& changes);

    // Records with after < change_id <= upto (restricted to `types` when not empty),
    // ascending, at most `limit`.
    std::vector<StoredRecord> read_changes(int64_t after, int64_t upto, const std::vector<std::string>& types,
                                           size_t limit);

private:
    Tx& tx_;
};

}  // namespace db
