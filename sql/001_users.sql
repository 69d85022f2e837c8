-- Users, refresh tokens and the failed-login counters.
-- Usernames are case-sensitive: utf8mb4_bin compares bytes.

CREATE TABLE users (
    username      VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    password_hash VARCHAR(255) NOT NULL,
    role          ENUM('read-only', 'read-write', 'admin') NOT NULL,
    -- Raised on password change/reset and role change; access tokens carry the
    -- version they were issued under, so older ones stop working.
    token_version BIGINT NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Refresh tokens are stored only as SHA-256 hashes. One login starts a family;
-- each refresh marks its token used and adds the next one to the family.
CREATE TABLE refresh_tokens (
    token_hash CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    family_id  CHAR(32) CHARACTER SET ascii NOT NULL,
    username   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    expires_at BIGINT NOT NULL,
    used       TINYINT NOT NULL DEFAULT 0,
    revoked    TINYINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    KEY refresh_by_family (family_id),
    KEY refresh_by_user (username),
    KEY refresh_by_expiry (expires_at)
) ENGINE=InnoDB;

-- Failed logins per username and per client address, in fixed windows.
CREATE TABLE login_failures (
    scope        ENUM('user', 'addr') NOT NULL,
    subject      VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    window_start BIGINT NOT NULL,
    failures     INT NOT NULL,
    PRIMARY KEY (scope, subject),
    KEY login_failures_by_window (window_start)
) ENGINE=InnoDB;
