// Attachments: the record of which id names which stored file, and the change
// versions the manifest is read by. The files live on disk
// (services/attachment_store.h); this is what every worker and host agrees on.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace db {

// Statements only; the transactions, the change version rule and the files belong
// to services::AttachmentStore.
class AttachmentRepository {
public:
    explicit AttachmentRepository(Tx& tx) : tx_(tx) {}

    // The row of `id`, deleted or not.
    std::optional<AttachmentRow> find(const std::string& id);
    // The same, with the row locked until the transaction ends.
    std::optional<AttachmentRow> find_for_update(const std::string& id);
    // Marks the live row of `id` deleted, with `version`.
    void mark_deleted(const std::string& id, int64_t version, const std::string& by);
    // Locks and raises the change counter by one and adds to the totals, in one
    // statement; false (nothing done) when attachment_totals has no row yet.
    bool raise_counter_and_totals(int64_t attachments, int64_t bytes);
    // Writes `row` as live with the counter's current value as its version, unless the
    // id is live: then false and nothing written. Run after raise_counter_and_totals.
    bool insert_if_not_live(const AttachmentRow& row, const std::string& by);
    // raise_counter_and_totals then insert_if_not_live (with add_to_totals when there
    // is no totals row), in one statement: the procedure of sql/013_attachment_put.sql.
    // With `begin` it first opens the transaction (Tx::must_begin). Throws db::Error
    // with code 1305 when the procedure is missing (a dump restored without routines).
    bool put_if_not_live(const AttachmentRow& row, const std::string& by, bool begin);
    // Adds to the live attachments' count and bytes (attachment_totals).
    void add_to_totals(int64_t attachments, int64_t bytes);
    // True when some live attachment has these bytes.
    bool sha_is_live(const std::string& sha256);

    // Rows with since < version <= upto, ascending version.
    std::vector<AttachmentRow> changes(int64_t since, int64_t upto);

    // Live attachments by id (synkronus-admin).
    std::vector<AttachmentRow> live();
    // True when the data of some live record mentions `id` as a JSON string.
    bool referenced(const std::string& id);

    // Files whose bytes no live row names, kept for a grace period before removal.
    void retire_file(const std::string& sha256);
    // Forgets a retired file: removed, or live again.
    void forget_retired_file(const std::string& sha256);
    // Retired files whose grace period has passed.
    std::vector<std::string> retired_due(int64_t grace_seconds);

private:
    Tx& tx_;
};

}  // namespace db
