-- How many records each form type has, tombstones apart (GET /admin/overview), kept
-- exactly: every push that writes records adds its changes to these rows in its own
-- transaction, after the change counter's lock (services/sync_service.cpp,
-- SyncService::apply, says why that adds no contention and no Galera conflicts).
-- A row that falls to 0 (its records moved to another form type) stays; the overview
-- shows only form types with records.
CREATE TABLE IF NOT EXISTS record_counts (
    form_type VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    deleted   TINYINT NOT NULL,
    records   BIGINT NOT NULL,
    PRIMARY KEY (form_type, deleted)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Filled from the stored records in one transaction that first takes the change
-- counter's lock, as a push does: a push that was writing has committed before the
-- lock is granted and is counted; a push that arrives during the count waits on the
-- lock for as long as the count takes (one scan of sync_records; README, "Admin
-- overview", gives the time at a million records; a push that waits longer than
-- db_lock_wait_timeout is answered 503 and repeated by its client under the same
-- transmission_id, as for any lock wait) and then adds its own changes to the
-- complete rows. So no push is counted twice or missed. Safe to run again: the rows
-- are replaced, not added to.
START TRANSACTION;
SELECT last_change_id INTO @record_counts_lock FROM sync_counter WHERE id = 1 FOR UPDATE;
DELETE FROM record_counts;
INSERT INTO record_counts (form_type, deleted, records)
    SELECT schema_type, deleted, COUNT(*) FROM sync_records GROUP BY schema_type, deleted;
COMMIT;
