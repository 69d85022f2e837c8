-- Named leases (db/lease.h): at most one process, on any host, holds a lease at a
-- time (the migration runner, the housekeeping jobs). The migration runner needs
-- this table before it can take its lease, so it runs this file first, before the
-- lease, and then records it in order like any other; hence IF NOT EXISTS, which
-- also lets a database whose table an older release made without a migration
-- migrate cleanly.
CREATE TABLE IF NOT EXISTS job_leases (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NOT NULL,
    expires_at BIGINT NOT NULL,
    takes BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
