-- Sync: records, the change counter, overwritten versions, stored push responses.

-- One row per record id; deletes are soft (deleted = 1 keeps a tombstone).
-- data holds the canonical JSON (RFC 8785) of the record's data object.
CREATE TABLE sync_records (
    id               VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    schema_type      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    schema_version   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    data             LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    hash             CHAR(64) CHARACTER SET ascii NOT NULL,
    deleted          TINYINT NOT NULL DEFAULT 0,
    change_id        BIGINT NOT NULL,
    last_modified    DATETIME(3) NOT NULL,
    last_modified_by VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    origin_client_id VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    -- A pull is a range scan on one of these, with or without a type filter.
    UNIQUE KEY sync_records_by_change (change_id),
    KEY sync_records_by_type_change (schema_type, change_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The highest change_id ever committed. Pushes lock this row, so change ids are
-- handed out and committed in one order (see db/sync_repository.cpp).
CREATE TABLE sync_counter (
    id             TINYINT NOT NULL PRIMARY KEY,
    last_change_id BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO sync_counter (id, last_change_id) VALUES (1, 0);

-- Versions overwritten by a push whose client had seen another hash.
CREATE TABLE sync_conflicts (
    conflict_id        BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    record_id          VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    schema_type        VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    schema_version     VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    data               LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    hash               CHAR(64) CHARACTER SET ascii NOT NULL,
    deleted            TINYINT NOT NULL,
    change_id          BIGINT NOT NULL,
    last_modified      DATETIME(3) NOT NULL,
    last_modified_by   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    origin_client_id   VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    client_hash        VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    overwritten_by     VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    overwritten_by_client VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    overwritten_change_id BIGINT NOT NULL,
    recorded_at        DATETIME(3) NOT NULL,
    KEY sync_conflicts_by_record (record_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Stored push responses for idempotent replays, until expires_at (unix seconds).
CREATE TABLE sync_transmissions (
    transmission_id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    body_hash       CHAR(64) CHARACTER SET ascii NOT NULL,
    response        LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_at      DATETIME(3) NOT NULL,
    expires_at      BIGINT NOT NULL,
    KEY sync_transmissions_by_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
