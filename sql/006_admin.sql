-- Administration (CONTRACT section 8): the audit log, device presence and revoked
-- access tokens.

-- Appended in the transaction of the change it records, never updated; rows older
-- than audit_retention_days are deleted by housekeeping. Newest first is
-- descending id; the filters each have an index that ends in id, so a page is a
-- range read of one index.
CREATE TABLE audit_log (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at         DATETIME(3) NOT NULL,
    actor      VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    action     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    target     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    -- A JSON object; never a password, token or hash (services/audit.cpp).
    detail     TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    address    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    KEY audit_by_at (at),
    KEY audit_by_actor (actor, id),
    KEY audit_by_action (action, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per client_id that pushed or pulled. Written at most once per
-- presence_interval per device, outside any push transaction (services/presence.cpp).
CREATE TABLE device_presence (
    client_id      VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    username       VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    generation     ENUM('records', 'observations') NOT NULL,
    first_seen     DATETIME(3) NOT NULL,
    last_seen      DATETIME(3) NOT NULL,
    last_push_at   DATETIME(3) NULL,
    last_pull_at   DATETIME(3) NULL,
    pull_cursor    BIGINT NULL,
    pushes         BIGINT NOT NULL DEFAULT 0,
    records_pushed BIGINT NOT NULL DEFAULT 0,
    -- When a worker last wrote the row: the next write waits presence_interval.
    written_at     DATETIME(3) NOT NULL,
    KEY presence_by_last_seen (last_seen, client_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Access tokens ended before their exp (POST /auth/logout), by jti. A worker reads
-- a user's revoked jtis with the user's token version (handlers/auth.cpp), so a
-- revocation is seen on every host within revocation_cache_seconds.
CREATE TABLE revoked_access_tokens (
    jti        CHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    username   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    expires_at BIGINT NOT NULL,
    KEY revoked_by_user (username, expires_at),
    KEY revoked_by_expiry (expires_at)
) ENGINE=InnoDB;

-- The admin overview's figures, computed by one worker at a time at most every
-- 10 s (services/admin_service.cpp) and read by all.
CREATE TABLE overview_cache (
    id          TINYINT NOT NULL PRIMARY KEY,
    body        MEDIUMTEXT NOT NULL,
    computed_at BIGINT NOT NULL
) ENGINE=InnoDB;

-- One row every deletion or role change of a user writes (db/user_repository.cpp):
-- on Galera, row locks are local to a node, so two demotions of the last two admins
-- on two nodes would both pass their FOR UPDATE check; writing this row gives their
-- write-sets a common key, certification lets one commit and the other is rerun and
-- sees one admin left.
CREATE TABLE admin_guard (
    id      TINYINT NOT NULL PRIMARY KEY,
    changes BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO admin_guard (id, changes) VALUES (1, 0);
