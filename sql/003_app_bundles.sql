-- App bundles: the stored versions, the active one, and retired versions whose
-- files are still on disk. The files live under bundle_dir; the database is the
-- record every worker and host agrees on (see handlers/app_bundle_store.cpp).

-- One row per stored version. The manifest is computed once, at push time.
CREATE TABLE bundle_versions (
    version        INT UNSIGNED NOT NULL PRIMARY KEY,
    manifest       LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    manifest_hash  CHAR(64) CHARACTER SET ascii NOT NULL,
    zip_sha256     CHAR(64) CHARACTER SET ascii NOT NULL,
    zip_size       BIGINT UNSIGNED NOT NULL,
    pushed_at      DATETIME(3) NOT NULL,
    pushed_by      VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row. Pushes, switches and retention lock it (SELECT … FOR UPDATE), so
-- version numbers are handed out one at a time and never reused, and the active
-- version changes in one row update.
CREATE TABLE bundle_state (
    id             TINYINT NOT NULL PRIMARY KEY,
    last_version   INT UNSIGNED NOT NULL,
    active_version INT UNSIGNED NULL
) ENGINE=InnoDB;
INSERT INTO bundle_state (id, last_version, active_version) VALUES (1, 0, NULL);

-- Versions removed by retention. Their rows are gone at once; their files stay
-- for a grace period so a download authorized just before can still be served.
CREATE TABLE bundle_retired (
    version        INT UNSIGNED NOT NULL PRIMARY KEY,
    retired_at     BIGINT NOT NULL
) ENGINE=InnoDB;
