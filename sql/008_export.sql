-- Data export filters and one-time download links (CONTRACT section 9).

-- An export pages through one form type in (synced_at, change_id) order, so a
-- changed_after/changed_before filter is a range on this index, not a scan of the
-- type; without a time filter it is the same walk over the whole type.
ALTER TABLE sync_records
    ADD KEY sync_records_by_type_synced (schema_type, last_modified, change_id);

-- One row per download link. Only the SHA-256 of the link's secret is kept. A
-- download claims the row with one UPDATE (used_at IS NULL AND not expired): the
-- row lock makes exactly one claim succeed, whichever worker or host tries.
CREATE TABLE export_links (
    token_hash  CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    format      VARCHAR(16) CHARACTER SET ascii NOT NULL,
    params      TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_by  VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NULL,
    KEY export_links_by_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
