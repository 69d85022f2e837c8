-- An upload's row in one round trip (issue 18): START TRANSACTION, the UPDATE that locks
-- and raises the change counter and adds to the attachment totals, and the INSERT of
-- the row, run by one CALL instead of three statements each waiting for its answer.
-- services/attachment_store.cpp says why the order (counter lock first, the row's
-- version read from the raised counter, COMMIT after the file's name is checked) keeps
-- the manifest's cursor from skipping; this is the same order, statement for
-- statement, as ATT_RAISE_COUNTER_AND_TOTALS then ATT_INSERT_IF_NOT_LIVE
-- (db/statements.cpp), which an upload still runs where this procedure is missing.
--
-- p_begin: 1 opens the transaction here (the caller sends no START TRANSACTION and
-- COMMITs after its checks); 0 runs inside the caller's open transaction.
-- The CALL answers one row, one column: the INSERT's ROW_COUNT(): 1 inserted, 2 a
-- deleted row made live again, 0 a live row left exactly as it was (the caller then
-- reads it for the 409/200 and rolls everything back). Not the CALL's affected-rows
-- count: MariaDB adds up those of every statement the procedure ran.
-- SQL SECURITY INVOKER: runs with the caller's rights, so it does not depend on the
-- account that created it. The procedure keeps the sql_mode it was created with; the
-- server's own (strict) mode is set here so a migration applied by hand gets it too.
-- Safe to run again: the procedure is replaced.
SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION';
DROP PROCEDURE IF EXISTS attachment_put;
DELIMITER //
CREATE PROCEDURE attachment_put(
    IN p_begin        TINYINT,
    IN p_id           VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_sha256       CHAR(64) CHARACTER SET ascii,
    IN p_size         BIGINT,
    IN p_content_type VARCHAR(127) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_by           VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    IF p_begin THEN
        START TRANSACTION;
    END IF;
    -- Locks the counter row until COMMIT (ATT_RAISE_COUNTER_AND_TOTALS).
    UPDATE sync_counter c, attachment_totals t
        SET c.last_change_id = c.last_change_id + 1, t.attachments = t.attachments + 1, t.bytes = t.bytes + p_size
        WHERE c.id = 1 AND t.id = 1;
    IF ROW_COUNT() = 0 THEN
        -- No totals row yet: the counter first (its lock), then the totals (ATT_TOTALS_ADD).
        UPDATE sync_counter SET last_change_id = last_change_id + 1 WHERE id = 1;
        INSERT INTO attachment_totals (id, attachments, bytes) VALUES (1, 1, p_size)
            ON DUPLICATE KEY UPDATE attachments = attachments + VALUES(attachments), bytes = bytes + VALUES(bytes);
    END IF;
    -- The row, with the raised counter as its version, unless the id is live
    -- (ATT_INSERT_IF_NOT_LIVE).
    INSERT INTO attachments (attachment_id, sha256, size, content_type, deleted, version, changed_at, changed_by)
        SELECT p_id, p_sha256, p_size, p_content_type, 0, last_change_id, UTC_TIMESTAMP(3), p_by
        FROM sync_counter WHERE id = 1
        ON DUPLICATE KEY UPDATE sha256 = IF(deleted, VALUES(sha256), sha256), size = IF(deleted, VALUES(size), size),
            content_type = IF(deleted, VALUES(content_type), content_type),
            version = IF(deleted, VALUES(version), version),
            changed_at = IF(deleted, VALUES(changed_at), changed_at),
            changed_by = IF(deleted, VALUES(changed_by), changed_by),
            deleted = 0;
    SELECT ROW_COUNT() AS changed;
END //
DELIMITER ;
