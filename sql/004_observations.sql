-- Observations (CONTRACT §7): the current mobile app's extra fields, on the same
-- records, so one range scan on change_id still serves both shapes of a pull.
-- created_at/updated_at are the client's RFC 3339 strings, stored as given;
-- geolocation is the JSON text of the client's object (NULL when absent or null).
-- Records pushed before this migration have NULL in all three.
ALTER TABLE sync_records
    ADD COLUMN created_at  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN updated_at  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN geolocation TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

-- An overwritten version keeps everything the client owned.
ALTER TABLE sync_conflicts
    ADD COLUMN created_at  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN updated_at  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN geolocation TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

-- transmission_id is now any 1 to 64 characters of A-Z a-z 0-9 _ - (the app sends
-- 16-character ids, not UUIDs), and case matters: "abc" and "ABC" are two pushes.
ALTER TABLE sync_transmissions
    MODIFY transmission_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
