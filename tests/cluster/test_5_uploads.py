"""Attachment uploads on two Galera nodes at once (issue 18): an upload opens its
transaction inside one CALL (attachment_put, sql/013) and commits after its file
check, so two hosts writing the change counter on two nodes conflict at COMMIT
(Galera certification) and the loser reruns the CALL from a new transaction. Every
upload must still be answered 200 once, with its own version, the totals exact, and
the manifest's cursor covering each row; a retry on the other host is idempotent."""
import hashlib
import os
import threading
import unittest
import uuid

import cluster as c
import harness as h
import test_attachments as ta


def put(host, att, data, token):
    body, ctype = ta.multipart([("file", "photo", "application/octet-stream", data)])
    return c.request(host, "PUT", "/attachments/" + att, raw=body, token=token, headers={"Content-Type": ctype})


class UploadsOnTwoNodes(unittest.TestCase):
    def test_concurrent_uploads_through_both_hosts_each_get_a_version_and_count_once(self):
        token = h.token_for("read-write")
        done, errors = [], []

        def client(host):
            for _ in range(12):
                att, data = "c5-" + uuid.uuid4().hex + ".bin", os.urandom(700)
                r = put(host, att, data, token)
                (done if r.status == 200 else errors).append((att, data, r))

        threads = [threading.Thread(target=client, args=(host,)) for host in ("host1", "host2", "host1", "host2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(done), 48)
        ids = "','".join(att for att, _, _ in done)
        rows = {r[0]: r[1:] for r in c.sql(f"SELECT attachment_id, sha256, deleted, version FROM attachments "
                                           f"WHERE attachment_id IN ('{ids}')")}
        self.assertEqual(len(rows), 48)
        for att, data, _ in done:
            self.assertEqual(rows[att][:2], [hashlib.sha256(data).hexdigest(), "0"])
        self.assertEqual(len({r[2] for r in rows.values()}), 48, "two uploads share a version")
        # The totals row equals a count of the live rows.
        live = c.sql("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM attachments WHERE deleted = 0")[0]
        self.assertEqual(c.sql("SELECT attachments, bytes FROM attachment_totals WHERE id = 1")[0], live)
        # Each host's manifest lists every upload at or below the version it hands out.
        for host in ("host1", "host2"):
            r = c.request(host, "POST", "/attachments/manifest",
                          body={"client_id": "cluster-uploads", "since_version": 0}, token=token)
            self.assertEqual(r.status, 200, r)
            listed = {o["attachment_id"]: o["version"] for o in r.json["operations"]}
            for att in rows:
                self.assertIn(att, listed, host)
                self.assertLessEqual(listed[att], r.json["current_version"])
        # A retry on the other host: 200, nothing new; other bytes: 409.
        att, data, _ = done[0]
        self.assertEqual(put("host2", att, data, token).status, 200)
        h.assert_problem(self, put("host2", att, os.urandom(700), token), 409, "conflict")
        self.assertEqual(c.sql(f"SELECT version FROM attachments WHERE attachment_id = '{att}'")[0][0], rows[att][2])


if __name__ == "__main__":
    unittest.main()
