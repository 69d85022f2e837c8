"""Migrations: recorded once each, and a second run applies nothing."""
import os
import subprocess
import unittest

import harness as h


def admin(*args):
    return subprocess.run([os.path.join(h.BIN, "synkronus-admin"), "--config",
                           os.path.join(h.STATE, "synkronus.conf"), *args],
                          capture_output=True, text=True)


class Migrations(unittest.TestCase):
    def test_every_file_is_recorded_once(self):
        files = sorted(f for f in os.listdir(os.path.join(h.REPO, "sql")) if f.endswith(".sql"))
        rows = h.sql("SELECT name FROM schema_migrations ORDER BY version")
        self.assertEqual([r[0] for r in rows], files)

    def test_running_again_changes_nothing(self):
        before = h.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")
        tables = h.sql("SHOW TABLES")
        r = admin("migrate")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 migration(s) applied", r.stdout)
        self.assertEqual(h.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"), before)
        self.assertEqual(h.sql("SHOW TABLES"), tables)
        # The service still answers after a migrate run against the live database.
        self.assertEqual(h.request("GET", "/health").status, 200)


if __name__ == "__main__":
    unittest.main()
