-- Attachments (CONTRACT section 7): immutable files named by the client, stored
-- under their SHA-256 in attachment_dir; this is the record every worker and host
-- agrees on (see services/attachment_store.cpp).

-- One row per attachment id; a deletion keeps the row (deleted = 1) so the
-- manifest can list it. version comes from sync_counter, like a record's
-- change_id, so a manifest cursor never skips (see db/attachment_repository.cpp).
CREATE TABLE attachments (
    attachment_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    sha256        CHAR(64) CHARACTER SET ascii NOT NULL,
    size          BIGINT UNSIGNED NOT NULL,
    content_type  VARCHAR(127) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    deleted       TINYINT NOT NULL DEFAULT 0,
    version       BIGINT NOT NULL,
    changed_at    DATETIME(3) NOT NULL,
    changed_by    VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    -- The manifest is a range scan on version; retention looks files up by hash.
    UNIQUE KEY attachments_by_version (version),
    KEY attachments_by_sha (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Files no live attachment names any more. They stay for a grace period after
-- retired_at (unix seconds) so a download authorized just before is still served.
CREATE TABLE attachment_files_retired (
    sha256     CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    retired_at BIGINT NOT NULL
) ENGINE=InnoDB;
