-- Record history and attachment references (CONTRACT section 8), and the indexes
-- that serve GET /admin/records. Every statement is safe to run again: when the
-- upgrade is interrupted (the reference backfill that follows this file runs in
-- C++, see db/migrate.cpp), the next start runs the file again from the top.

-- The versions accepted changes replaced, written in the push's own transaction:
-- one row per replaced version (a replayed push applies nothing, so it adds none).
-- The primary key only grows, so a push appends to the end of the table instead of
-- splitting pages all over it (a push that updates every record writes as many
-- history rows); history_id order is also replaced_at order (up to the moment two
-- pushes overlap), which retention deletes by, oldest first.
CREATE TABLE IF NOT EXISTS sync_record_history (
    history_id     BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    record_id      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    change_id      BIGINT NOT NULL,
    schema_type    VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    schema_version VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    data           LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    hash           CHAR(64) CHARACTER SET ascii NOT NULL,
    deleted        TINYINT NOT NULL,
    synced_at      DATETIME(3) NOT NULL,
    modified_by    VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    client_id      VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_at     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    updated_at     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    geolocation    TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    -- 'push' (an ordinary later change) or 'conflict' (a push whose client had seen
    -- another version)
    replaced_by    VARCHAR(8) CHARACTER SET ascii NOT NULL,
    replaced_at    DATETIME(3) NOT NULL,
    -- A record's history, newest first, is a backward range scan of this key.
    KEY sync_record_history_by_record (record_id, change_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Which live record's data names which attachment id (every string value of the
-- data that has an attachment file name's form, domain/attachment_refs.h). Pushes
-- keep it up to date in their transaction; tombstones name nothing.
CREATE TABLE IF NOT EXISTS attachment_refs (
    attachment_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    record_id     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    -- "is it referenced, by whom, how often" is a range of this key
    PRIMARY KEY (attachment_id, record_id),
    -- a push replaces a record's references through this one
    KEY attachment_refs_by_record (record_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- GET /admin/records, newest change first, under one filter each: the filter's
-- column then change_id, so a page is one backward range scan. form_type uses the
-- existing sync_records_by_type_change.
ALTER TABLE sync_records
    ADD KEY IF NOT EXISTS sync_records_by_client_change (origin_client_id, change_id),
    ADD KEY IF NOT EXISTS sync_records_by_user_change (last_modified_by, change_id),
    ADD KEY IF NOT EXISTS sync_records_by_deleted_change (deleted, change_id),
    ADD KEY IF NOT EXISTS sync_records_by_synced (last_modified, change_id);

-- GET /admin/attachments lists live attachments newest first.
ALTER TABLE attachments
    ADD KEY IF NOT EXISTS attachments_by_deleted_version (deleted, version);
