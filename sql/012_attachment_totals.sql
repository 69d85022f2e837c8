-- How many live attachments there are and how many bytes they hold (GET
-- /admin/overview), kept exactly in one row: an upload that makes an id live adds one
-- and its size, a deletion takes them away, each in its own transaction after the
-- change counter's lock (services/attachment_store.cpp says why that adds no
-- contention and no Galera conflicts). The overview then reads one row instead of
-- scanning every attachment.
CREATE TABLE IF NOT EXISTS attachment_totals (
    id          TINYINT NOT NULL PRIMARY KEY,
    attachments BIGINT NOT NULL,
    bytes       BIGINT NOT NULL
) ENGINE=InnoDB;

-- Filled from the stored attachments in one transaction that first takes the change
-- counter's lock, as an upload or a deletion does: one that was writing has committed
-- before the lock is granted and is counted; one that arrives meanwhile waits for the
-- count (one scan of attachments) and then adds its own change to the complete row.
-- Safe to run again: the row is replaced, not added to.
START TRANSACTION;
SELECT last_change_id INTO @attachment_totals_lock FROM sync_counter WHERE id = 1 FOR UPDATE;
REPLACE INTO attachment_totals (id, attachments, bytes)
    SELECT 1, COUNT(*), COALESCE(SUM(size), 0) FROM attachments WHERE deleted = 0;
COMMIT;
