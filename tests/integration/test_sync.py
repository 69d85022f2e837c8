"""Contract section 5 through nginx: POST /sync/push and POST /sync/pull, row by row.

Every test works on its own schemaType and record ids (unique per test), so the
tests do not see each other's records; the checks on the change counter assume
that nothing else pushes while this module runs (run.sh runs modules one by one).
"""
import base64
import gzip
import hashlib
import json
import re
import threading
import time
import unittest
import uuid

import harness as h

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
RECORD_KEYS = {"id", "schemaType", "schemaVersion", "data", "hash", "deleted", "change_id",
               "last_modified", "last_modified_by", "origin_client_id"}
PUSH_KEYS = {"server_time", "current_version", "success_count", "failed_records", "warnings"}


def utype(prefix="T"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def uid(prefix="r"):
    return f"{prefix}-{uuid.uuid4().hex}"


def canonical(value):
    """RFC 8785 for ASCII keys and integer-only numbers, as Python prints it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def expected_hash(data, schema_type, schema_version):
    doc = {"data": data, "schemaType": schema_type, "schemaVersion": schema_version}
    return hashlib.sha256(canonical(doc).encode("utf-8")).hexdigest()


def rec(rid, schema_type, data=None, version="1", **extra):
    r = {"id": rid, "schemaType": schema_type, "schemaVersion": version,
         "data": {"n": 1} if data is None else data}
    r.update(extra)
    return r


def push_body(records, tid=None, client_id="device-1"):
    return {"transmission_id": tid or str(uuid.uuid4()), "client_id": client_id, "records": records}


def push(token, records, tid=None, client_id="device-1"):
    return h.request("POST", "/sync/push", push_body(records, tid, client_id), token=token)


def push_raw(token, raw, conn=None):
    return h.request("POST", "/sync/push", raw=raw, token=token,
                     headers={"Content-Type": "application/json"}, conn=conn)


def pull(token, body=None, query="", headers=None):
    b = {"client_id": "device-1"} if body is None else body
    return h.request("POST", "/sync/pull" + query, b, token=token, headers=headers)


def db_counter():
    return int(h.sql("SELECT last_change_id FROM sync_counter")[0][0])


def db_max_change():
    return int(h.sql("SELECT COALESCE(MAX(change_id), 0) FROM sync_records")[0][0])


def db_data(rid):
    """The stored data column, exactly (hex avoids the client's escaping of tabs and backslashes)."""
    return bytes.fromhex(h.sql(f"SELECT HEX(data) FROM sync_records WHERE id = '{rid}'")[0][0]).decode()


def db_record(rid):
    rows = h.sql("SELECT id, hash, deleted, change_id, last_modified_by, origin_client_id, data "
                 f"FROM sync_records WHERE id = '{rid}'")
    return rows[0] if rows else None


class SyncBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user, pw = h.make_user("read-write")
        cls.token = h.login(cls.user, pw)["token"]

    def ok_push(self, records, tid=None, client_id="device-1"):
        r = push(self.token, records, tid, client_id)
        self.assertEqual(r.status, 200, r)
        return r.json

    def ok_pull(self, body=None, query="", token=None):
        r = pull(token or self.token, body, query)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        return r.json

    def pull_type(self, schema_type, after=0, limit=500):
        """Every record of one type after `after`, following next_page_token."""
        out, query = [], f"?limit={limit}&schemaType={schema_type}"
        page = self.ok_pull({"client_id": "device-1", "after_change_id": after}, query)
        out += page["records"]
        while page["has_more"]:
            page = self.ok_pull({"client_id": "device-1"}, query + "&page_token=" + page["next_page_token"])
            out += page["records"]
        return out

    def one(self, schema_type, rid):
        got = [r for r in self.pull_type(schema_type) if r["id"] == rid]
        self.assertEqual(len(got), 1, got)
        return got[0]

    def assert_validation(self, reply, fields):
        p = h.assert_problem(self, reply, 400, "validation")
        self.assertEqual({e["field"] for e in p["errors"]}, set(fields), p)
        for e in p["errors"]:
            self.assertIsInstance(e["message"], str)
            self.assertTrue(e["message"])
        return p


class PushTests(SyncBase):
    def test_success_shape(self):
        t = utype()
        r = push(self.token, [rec(uid(), t), rec(uid(), t)])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        body = r.json
        self.assertEqual(set(body), PUSH_KEYS, body)
        self.assertRegex(body["server_time"], RFC3339)
        self.assertEqual(body["success_count"], 2)
        self.assertEqual(body["current_version"], db_counter())  # its own last change
        self.assertEqual(body["failed_records"], [])
        self.assertEqual(body["warnings"], [])
        # Empty lists are [] in the bytes, never null or missing.
        self.assertIn(b'"failed_records":[]', r.body.replace(b" ", b""))
        self.assertIn(b'"warnings":[]', r.body.replace(b" ", b""))

    def test_empty_records_array(self):
        body = self.ok_push([])
        self.assertEqual((body["success_count"], body["failed_records"], body["warnings"]), (0, [], []))

    def test_partial_success(self):
        t = utype()
        good1, good2 = uid("good"), uid("good")
        long_ok = "i" * 255  # limits count characters: 255 two-byte characters also fit
        wide_ok = "\u00e9" * 200 + uid()[:40]
        cases = [  # (record, id reported in failed_records or None when it is valid, field named)
            (rec(good1, t), None, None),
            ({"schemaType": t, "schemaVersion": "1", "data": {}}, "", "id"),
            (rec("", t), "", "id"),
            (rec("x" * 256, t), "x" * 256, "id"),
            (rec(17, t), "", "id"),
            ({"id": "no-type-" + uid(), "schemaVersion": "1", "data": {}}, "no-type", "schemaType"),
            (rec("long-type", "t" * 256), "long-type", "schemaType"),
            (rec("empty-type", ""), "empty-type", "schemaType"),
            ({"id": "no-version", "schemaType": t, "data": {}}, "no-version", "schemaVersion"),
            (rec("long-version", t, version="v" * 65), "long-version", "schemaVersion"),
            (rec("num-version", t, version=3), "num-version", "schemaVersion"),
            ({"id": "no-data", "schemaType": t, "schemaVersion": "1"}, "no-data", "data"),
            (rec("array-data", t, data=[1, 2]), "array-data", "data"),
            (rec("string-data", t, data="text"), "string-data", "data"),
            (rec("number-data", t, data=42), "number-data", "data"),
            (rec("null-data", t, data=None) | {"data": None}, "null-data", "data"),
            ("not an object", "", None),
            (rec(long_ok + "", t, version="v" * 64), None, None),
            (rec(wide_ok, t), None, None),
            (rec(good2, t), None, None),
        ]
        records = [c[0] for c in cases]
        body = self.ok_push(records)
        valid = [c[0] for c in cases if c[1] is None]
        self.assertEqual(body["success_count"], len(valid), body)
        self.assertEqual(body["warnings"], [])
        failed = body["failed_records"]
        expected_idx = [i for i, c in enumerate(cases) if c[1] is not None]
        self.assertEqual([f["index"] for f in failed], expected_idx, failed)
        for f in failed:
            self.assertEqual(set(f), {"id", "index", "code", "error"}, f)
            want_id, field = cases[f["index"]][1], cases[f["index"]][2]
            if want_id == "no-type":
                want_id = records[f["index"]]["id"]
            self.assertEqual(f["id"], want_id, f)
            self.assertIsInstance(f["code"], str)
            self.assertTrue(f["code"])
            self.assertIsInstance(f["error"], str)
            if field:
                self.assertIn(field, f["error"], f)
        # The valid records were applied, none of the invalid ones.
        pulled = {r["id"] for r in self.pull_type(t)}
        self.assertEqual(pulled, {good1, good2, long_ok, wide_ok})
        for bad in ("no-version", "long-version", "array-data", "no-data", "string-data"):
            self.assertIsNone(db_record(bad))

    def test_request_validation(self):
        t = utype()
        tid = str(uuid.uuid4())
        cases = [
            ({"transmission_id": "not a uuid", "client_id": "c", "records": []}, ["transmission_id"]),
            ({"transmission_id": "x" * 65, "client_id": "c", "records": []}, ["transmission_id"]),
            ({"transmission_id": tid + "{}", "client_id": "c", "records": []}, ["transmission_id"]),
            ({"transmission_id": "", "client_id": "c", "records": []}, ["transmission_id"]),
            ({"transmission_id": 12345, "client_id": "c", "records": []}, ["transmission_id"]),
            ({"client_id": "c", "records": []}, ["transmission_id"]),
            ({"transmission_id": tid, "client_id": "", "records": []}, ["client_id"]),
            ({"transmission_id": tid, "client_id": "c" * 129, "records": []}, ["client_id"]),
            ({"transmission_id": tid, "client_id": 7, "records": []}, ["client_id"]),
            ({"transmission_id": tid, "records": []}, ["client_id"]),
            ({"transmission_id": tid, "client_id": "c", "records": {"id": "x"}}, ["records"]),
            ({"transmission_id": tid, "client_id": "c", "records": "[]"}, ["records"]),
            ({"transmission_id": tid, "client_id": "c"}, ["records"]),
            ({"transmission_id": tid, "client_id": "c", "records": [rec(uid(), t)] * 1001}, ["records"]),
            ({"transmission_id": "x.y", "client_id": "", "records": 5}, ["transmission_id", "client_id", "records"]),
        ]
        before = (db_counter(), h.sql("SELECT COUNT(*) FROM sync_transmissions")[0][0])
        for body, fields in cases:
            with self.subTest(fields=fields, body=str(body)[:80]):
                r = h.request("POST", "/sync/push", body, token=self.token)
                p = self.assert_validation(r, fields)
                self.assertNotIn("SELECT", p["detail"])
        self.assertEqual((db_counter(), h.sql("SELECT COUNT(*) FROM sync_transmissions")[0][0]), before)
        # A refused push did not use up its transmission_id, and the limits are inclusive.
        records = [rec(uid(), t) for _ in range(1000)]
        body = self.ok_push(records, tid=tid, client_id="c" * 128)
        self.assertEqual(body["success_count"], 1000)
        self.assertEqual(len(self.pull_type(t)), 1000)

    def test_upsert_by_id(self):
        t, rid = utype(), uid()
        self.ok_push([rec(rid, t, {"v": 1})])
        first = self.one(t, rid)
        self.ok_push([rec(rid, t, {"v": 2}, version="2")])
        second = self.one(t, rid)
        self.assertEqual(second["data"], {"v": 2})
        self.assertEqual(second["schemaVersion"], "2")
        self.assertEqual(second["hash"], expected_hash({"v": 2}, t, "2"))
        self.assertGreater(second["change_id"], first["change_id"])
        self.assertEqual(h.sql(f"SELECT COUNT(*) FROM sync_records WHERE id = '{rid}'"), [["1"]])

    def test_same_id_twice_in_one_push_last_wins(self):
        t, rid = utype(), uid()
        body = self.ok_push([rec(rid, t, {"v": 1}), rec(rid, t, {"v": 2})])
        self.assertEqual(body["success_count"], 2)
        self.assertEqual(self.one(t, rid)["data"], {"v": 2})

    def test_unchanged_record_is_a_noop(self):
        t, rid = utype(), uid()
        self.ok_push([rec(rid, t, {"a": 1, "b": [1, 2], "c": {"d": "e"}})])
        first = self.one(t, rid)
        counter = db_counter()
        # Same content, other key order and whitespace: the canonical form is the same.
        raw = ('{"transmission_id": "%s", "client_id": "other-device", "records": [{"schemaVersion": "1", '
               '"data": {"c": {"d": "e"}, "b": [1, 2], "a": 1}, "deleted": false, "id": "%s", '
               '"schemaType": "%s"}]}' % (uuid.uuid4(), rid, t)).encode()
        r = push_raw(self.token, raw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["success_count"], 1)
        self.assertEqual(r.json["failed_records"], [])
        self.assertEqual(db_counter(), counter, "a no-op push took a change_id")
        page = self.ok_pull({"client_id": "device-1", "after_change_id": first["change_id"]}, f"?schemaType={t}")
        self.assertEqual(page["records"], [])
        again = self.one(t, rid)
        self.assertEqual(again, first)  # not even origin_client_id or last_modified moved

    def test_server_assigned_fields(self):
        t, rid = utype(), uid()
        forged = {"change_id": 10 ** 12, "last_modified": "2000-01-01T00:00:00Z",
                  "last_modified_by": "mallory", "origin_client_id": "forged-client",
                  "hash": "0" * 64, "unknown_field": {"x": 1}}
        before = db_counter()
        t0 = time.time()
        self.ok_push([rec(rid, t, {"k": "v"}, **forged)], client_id="tablet-42")
        got = self.one(t, rid)
        self.assertEqual(set(got), RECORD_KEYS, got)
        self.assertEqual(got["change_id"], before + 1)
        self.assertEqual(got["last_modified_by"], self.user)
        self.assertEqual(got["origin_client_id"], "tablet-42")
        self.assertEqual(got["hash"], expected_hash({"k": "v"}, t, "1"))
        self.assertIs(got["deleted"], False)
        self.assertRegex(got["last_modified"], RFC3339)
        lm = time.mktime(time.strptime(got["last_modified"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        self.assertLess(abs(lm - t0), 120, got["last_modified"])
        self.assertNotIn("unknown_field", got["data"])
        row = db_record(rid)
        self.assertEqual(row[4:6], [self.user, "tablet-42"])
        # An admin pushing is recorded under its own name.
        self.ok_push([rec(rid, t, {"k": "w"})], client_id="x")
        admin_push = h.request("POST", "/sync/push", push_body([rec(rid, t, {"k": "admin"})], client_id="adm"),
                               token=h.admin_token())
        self.assertEqual(admin_push.status, 200, admin_push)
        self.assertEqual(self.one(t, rid)["last_modified_by"], "admin")

    def test_hash_is_sha256_of_canonical_json(self):
        t = utype()
        datas = [
            {},
            {"b": 2, "a": 1, "A": 0, "_": -7, "a1": 10 ** 15},
            {"nested": {"z": [3, {"y": None, "x": True}], "a": False}, "list": [], "obj": {}},
            {"text": "plain", "quote": 'say "hi" \\ back', "ctl": "tab\tnl\ncr\r\x01\x1f",
             "unicode": "\u00e9\u4e2d\U0001F600", "slash": "a/b"},
            {"deep": {"a": {"b": {"c": {"d": [1, [2, [3]]]}}}}},
        ]
        records = [rec(f"h{i}-{uid()}", t, d, version=f"v{i}") for i, d in enumerate(datas)]
        self.ok_push(records)
        pulled = {r["id"]: r for r in self.pull_type(t)}
        for r in records:
            with self.subTest(data=r["data"]):
                got = pulled[r["id"]]
                self.assertRegex(got["hash"], HEX64)
                self.assertEqual(got["hash"], expected_hash(r["data"], t, r["schemaVersion"]))
                self.assertEqual(got["data"], r["data"])
                # What is stored is the canonical form itself.
                self.assertEqual(db_data(r["id"]), canonical(r["data"]))

    def test_soft_delete(self):
        t, rid, other = utype(), uid(), uid()
        self.ok_push([rec(rid, t, {"v": 1}), rec(other, t)])
        live = self.one(t, rid)
        body = self.ok_push([rec(rid, t, {"v": 1}, deleted=True)])
        self.assertEqual((body["success_count"], body["failed_records"]), (1, []))
        tomb = self.one(t, rid)
        self.assertIs(tomb["deleted"], True)
        self.assertGreater(tomb["change_id"], live["change_id"])
        self.assertEqual(tomb["hash"], live["hash"])  # the hash covers content, not the flag
        self.assertEqual(db_record(rid)[2], "1")  # still stored: a tombstone
        # Tombstones come in pulls after the cursor, filtered or not.
        page = self.ok_pull({"client_id": "d", "after_change_id": live["change_id"]})
        self.assertIn(rid, {r["id"] for r in page["records"] if r["deleted"]})
        # Deleting again is a no-op; undeleting is a change.
        counter = db_counter()
        self.ok_push([rec(rid, t, {"v": 1}, deleted=True)])
        self.assertEqual(db_counter(), counter)
        self.ok_push([rec(rid, t, {"v": 1}, deleted=False)])
        back = self.one(t, rid)
        self.assertIs(back["deleted"], False)
        self.assertGreater(back["change_id"], tomb["change_id"])
        # A bad deleted flag fails that record alone.
        body = self.ok_push([rec(rid, t, {"v": 1}, deleted="yes")])
        self.assertEqual([f["index"] for f in body["failed_records"]], [0])
        self.assertIn("deleted", body["failed_records"][0]["error"])

    def test_conflict_push_wins_and_keeps_the_overwritten_version(self):
        t, rid = utype(), uid()
        self.ok_push([rec(rid, t, {"v": 1})], client_id="phone-a")
        h1 = self.one(t, rid)["hash"]
        # The client had seen the stored hash: no conflict.
        body = self.ok_push([rec(rid, t, {"v": 2}, hash=h1)], client_id="phone-a")
        self.assertEqual(body["warnings"], [])
        v2 = self.one(t, rid)
        h2 = v2["hash"]
        # Another client still holds h1 and pushes: it wins, with a warning.
        body = self.ok_push([rec(rid, t, {"v": 3}, hash=h1)], client_id="phone-b")
        self.assertEqual(body["success_count"], 1)
        self.assertEqual(body["failed_records"], [])
        self.assertEqual(len(body["warnings"]), 1, body)
        w = body["warnings"][0]
        self.assertEqual(set(w), {"id", "code", "message"})
        self.assertEqual((w["id"], w["code"]), (rid, "CONFLICT"))
        self.assertIsInstance(w["message"], str)
        self.assertTrue(w["message"])
        v3 = self.one(t, rid)
        self.assertEqual(v3["data"], {"v": 3})
        self.assertEqual(v3["origin_client_id"], "phone-b")
        rows = h.sql("SELECT record_id, hash, data, deleted, change_id, origin_client_id, client_hash, "
                     f"overwritten_by, overwritten_by_client, overwritten_change_id FROM sync_conflicts "
                     f"WHERE record_id = '{rid}'")
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0], [rid, h2, canonical({"v": 2}), "0", str(v2["change_id"]), "phone-a", h1,
                                   self.user, "phone-b", str(v3["change_id"])])
        # A hash for a record the server does not have yet is no conflict.
        body = self.ok_push([rec(uid(), t, {"v": 1}, hash="f" * 64)])
        self.assertEqual(body["warnings"], [])

    def test_conflict_on_delete_and_several_in_one_push(self):
        t = utype()
        ids = [uid() for _ in range(3)]
        self.ok_push([rec(i, t, {"v": 1}) for i in ids])
        self.ok_push([rec(i, t, {"v": 2}) for i in ids])
        stale = expected_hash({"v": 1}, t, "1")
        body = self.ok_push([rec(ids[0], t, {"v": 2}, deleted=True, hash=stale),
                             rec(ids[1], t, {"v": 9}, hash=stale),
                             rec(ids[2], t, {"v": 2}, hash=expected_hash({"v": 2}, t, "1"))])
        self.assertEqual(sorted(w["id"] for w in body["warnings"]), sorted(ids[:2]), body)
        self.assertTrue(all(w["code"] == "CONFLICT" for w in body["warnings"]))
        n = h.sql("SELECT COUNT(*) FROM sync_conflicts WHERE record_id IN ('%s')" % "','".join(ids))
        self.assertEqual(n, [["2"]])

    def test_idempotent_replay_sequential(self):
        t, rid, twice = utype(), uid(), uid()
        tid = str(uuid.uuid4())
        # Includes a failed record, a record pushed twice and a conflict, so the stored
        # response is not trivial, and a second application would show.
        self.ok_push([rec(rid, t, {"v": 0})])
        stale = "a" * 64
        raw = json.dumps(push_body([rec(rid, t, {"v": 1}, hash=stale), {"id": "bad"},
                                    rec(twice, t, {"v": "first"}), rec(twice, t, {"v": "second"})],
                                   tid=tid)).encode()
        counter = db_counter()
        first = push_raw(self.token, raw)
        self.assertEqual(first.status, 200, first)
        self.assertEqual(len(first.json["warnings"]), 1)
        self.assertEqual(len(first.json["failed_records"]), 1)
        self.assertEqual(db_counter(), counter + 2)
        state = {r["id"]: r for r in self.pull_type(t)}
        # The world moves on; the replay must not undo that.
        self.ok_push([rec(rid, t, {"v": 2})])
        counter = db_counter()
        conflicts = h.sql("SELECT COUNT(*) FROM sync_conflicts")
        time.sleep(1.1)  # a re-rendered response would carry another server_time
        for _ in range(3):
            again = push_raw(self.token, raw)
            self.assertEqual(again.status, 200, again)
            self.assertEqual(again.body, first.body)
            self.assertEqual(again.header("content-type"), "application/json")
        self.assertEqual(db_counter(), counter, "a replay applied records again")
        self.assertEqual(h.sql("SELECT COUNT(*) FROM sync_conflicts"), conflicts)
        now = {r["id"]: r for r in self.pull_type(t)}
        self.assertEqual(now[rid]["data"], {"v": 2})
        self.assertEqual(now[twice], state[twice])
        self.assertEqual(h.sql(f"SELECT COUNT(*) FROM sync_transmissions WHERE transmission_id = '{tid}'"),
                         [["1"]])
        # Transmission ids are case-sensitive (CONTRACT §7): in upper case it is another
        # push, applied as such (its stale hash overwrites v2 again, with a warning).
        upper = push_raw(self.token, raw.replace(tid.encode(), tid.upper().encode()))
        self.assertEqual(upper.status, 200, upper)
        self.assertIsNone(upper.header("x-idempotent-replay"))
        # rid, and `twice` (first then second: two changes of one row, as in two pushes).
        self.assertEqual(upper.json["current_version"], counter + 2)
        self.assertEqual(db_counter(), counter + 2)
        self.assertEqual([w["id"] for w in upper.json["warnings"]], [rid])

    def test_idempotent_replay_concurrent(self):
        t = utype()
        ids = [uid() for _ in range(20)]
        # Each id twice with different content: applying the push a second time would
        # rewrite the first version and take new change ids.
        records = [rec(i, t, {"v": "a"}) for i in ids] + [rec(i, t, {"v": "b"}) for i in ids]
        tid = str(uuid.uuid4())
        raw = json.dumps(push_body(records, tid=tid)).encode()
        n = 8
        barrier = threading.Barrier(n)
        replies = [None] * n
        conns = [h.connection() for _ in range(n)]
        for c in conns:
            c.connect()
        counter = db_counter()

        def send(k):
            barrier.wait()
            try:
                replies[k] = push_raw(self.token, raw, conn=conns[k])
            except Exception as e:  # recorded, checked below
                replies[k] = e

        threads = [threading.Thread(target=send, args=(k,)) for k in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        for c in conns:
            c.close()
        for r in replies:
            self.assertIsInstance(r, h.Reply, r)
            self.assertEqual(r.status, 200, r)
        self.assertEqual(len({r.body for r in replies}), 1, [r.body[:120] for r in replies])
        self.assertEqual(replies[0].json["success_count"], 40)
        self.assertEqual(db_counter(), counter + 20, "the push was applied more than once")
        pulled = self.pull_type(t)
        self.assertEqual(sorted(r["id"] for r in pulled), sorted(ids))
        self.assertTrue(all(r["data"] == {"v": "b"} for r in pulled))
        self.assertEqual(sorted(r["change_id"] for r in pulled), list(range(counter + 1, counter + 21)))
        self.assertEqual(h.sql(f"SELECT COUNT(*) FROM sync_transmissions WHERE transmission_id = '{tid}'"),
                         [["1"]])

    def test_same_transmission_id_other_body_is_409(self):
        t, rid, other = utype(), uid(), uid()
        tid = str(uuid.uuid4())
        self.ok_push([rec(rid, t, {"v": 1})], tid=tid)
        counter = db_counter()
        for records in ([rec(other, t, {"v": 1})], [rec(rid, t, {"v": 2})], []):
            r = push(self.token, records, tid=tid)
            h.assert_problem(self, r, 409, "conflict")
        r = push(self.token, [rec(rid, t, {"v": 1})], tid=tid, client_id="another-device")
        h.assert_problem(self, r, 409, "conflict")
        self.assertEqual(db_counter(), counter)
        self.assertIsNone(db_record(other))
        self.assertEqual(self.one(t, rid)["data"], {"v": 1})

    def test_all_records_invalid_is_stored_and_replayed(self):
        tid = str(uuid.uuid4())
        counter = db_counter()
        raw = json.dumps(push_body([{"id": "only-bad"}, 5], tid=tid)).encode()
        first = push_raw(self.token, raw)
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.json["success_count"], 0)
        self.assertEqual([f["index"] for f in first.json["failed_records"]], [0, 1])
        again = push_raw(self.token, raw)
        self.assertEqual((again.status, again.body), (200, first.body))
        self.assertEqual(db_counter(), counter)

    def test_roles_and_authentication(self):
        t, rid = utype(), uid()
        ro = h.token_for("read-only")
        r = push(ro, [rec(rid, t)])
        h.assert_problem(self, r, 403, "forbidden")
        self.assertIsNone(db_record(rid))
        self.ok_push([rec(rid, t)])
        page = self.ok_pull({"client_id": "ro-device"}, f"?schemaType={t}", token=ro)
        self.assertEqual([x["id"] for x in page["records"]], [rid])
        for path, body in (("/sync/push", push_body([rec(uid(), t)])), ("/sync/pull", {"client_id": "x"})):
            for token in (None, "not.a.token", self.token[:-4] + "AAAA"):
                with self.subTest(path=path, token=token and token[:12]):
                    r = h.request("POST", path, body, token=token)
                    h.assert_problem(self, r, 401, "unauthorized")
                    self.assertTrue(r.header("www-authenticate").startswith("Bearer"), r.headers)
        self.assertEqual(len(self.pull_type(t)), 1)

    def test_wrong_method(self):
        for path in ("/sync/push", "/sync/pull"):
            r = h.request("GET", path, token=self.token)
            self.assertEqual(r.status, 405, r)
            self.assertEqual(r.header("content-type"), "application/problem+json")
            self.assertIn("POST", r.header("allow"))


class PullTests(SyncBase):
    def push_n(self, t, n, data=None):
        ids = [f"{t}-{k:04d}" for k in range(n)]
        for k in range(0, n, 500):
            self.ok_push([rec(i, t, data or {"k": i}) for i in ids[k:k + 500]])
        return ids

    def test_response_shape_and_empty_lists(self):
        t = utype()
        r = pull(self.token, {"client_id": "d"}, f"?schemaType={t}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        body = r.json
        self.assertEqual(set(body), {"server_time", "current_version", "records", "change_cutoff", "has_more",
                                     "sync_format_version"}, body)
        self.assertEqual(body["current_version"], body["change_cutoff"])
        self.assertEqual(body["sync_format_version"], "1.0")
        self.assertRegex(body["server_time"], RFC3339)
        self.assertEqual(body["records"], [])
        self.assertIn(b'"records":[]', r.body.replace(b" ", b""))
        self.assertIs(body["has_more"], False)
        self.assertIsInstance(body["change_cutoff"], int)
        # All optional fields absent or null.
        for b in ({"client_id": "d", "after_change_id": None, "schema_types": None},
                  {"client_id": "d", "after_change_id": 0, "schema_types": []}):
            self.ok_pull(b, "?limit=1")

    def test_records_after_cursor_ascending(self):
        t = utype()
        ids = self.push_n(t, 6)
        full = self.pull_type(t)
        self.assertEqual([r["id"] for r in full], ids)
        after = full[1]["change_id"]
        page = self.ok_pull({"client_id": "d", "after_change_id": after}, f"?schemaType={t}")
        self.assertEqual([r["id"] for r in page["records"]], ids[2:])
        cids = [r["change_id"] for r in page["records"]]
        self.assertEqual(cids, sorted(set(cids)))
        self.assertTrue(all(c > after for c in cids))
        for r in page["records"]:
            self.assertEqual(set(r), RECORD_KEYS)
        # Unfiltered: every record returned is above the cursor, in order.
        page = self.ok_pull({"client_id": "d", "after_change_id": after}, "?limit=500")
        cids = [r["change_id"] for r in page["records"]]
        self.assertEqual(cids, sorted(set(cids)))
        self.assertTrue(all(c > after for c in cids))
        self.assertEqual([r["id"] for r in page["records"] if r["schemaType"] == t], ids[2:])
        # after_change_id given as 5.0 is the integer 5.
        raw = ('{"client_id": "d", "after_change_id": %d.0}' % after).encode()
        r = h.request("POST", f"/sync/pull?schemaType={t}", raw=raw, token=self.token,
                      headers={"Content-Type": "application/json"})
        self.assertEqual([x["id"] for x in r.json["records"]], ids[2:])

    def test_limit(self):
        t = utype()
        self.push_n(t, 60)
        self.assertEqual(len(self.ok_pull({"client_id": "d"}, f"?schemaType={t}")["records"]), 50)  # default
        self.assertEqual(len(self.ok_pull({"client_id": "d"}, f"?schemaType={t}&limit=1")["records"]), 1)
        page = self.ok_pull({"client_id": "d"}, f"?schemaType={t}&limit=500")
        self.assertEqual(len(page["records"]), 60)
        self.assertIs(page["has_more"], False)
        for bad in ("0", "501", "abc", "-1", "", "1.5", "1e2", "99999999999"):
            with self.subTest(limit=bad):
                self.assert_validation(pull(self.token, {"client_id": "d"}, f"?limit={bad}"), ["limit"])

    def test_filters_union(self):
        a, b, c = utype("A"), utype("B"), utype("C")
        ia, ib, ic = self.push_n(a, 3), self.push_n(b, 2), self.push_n(c, 4)
        tomb = ib[0]
        self.ok_push([rec(tomb, b, {"k": tomb}, deleted=True)])

        def ids(body, query=""):
            page = self.ok_pull(body, "?limit=500" + query)
            cids = [r["change_id"] for r in page["records"]]
            self.assertEqual(cids, sorted(set(cids)))
            return sorted(r["id"] for r in page["records"])

        self.assertEqual(ids({"client_id": "d"}, f"&schemaType={a}"), sorted(ia))
        self.assertEqual(ids({"client_id": "d", "schema_types": [b]}), sorted(ib))
        self.assertEqual(ids({"client_id": "d", "schema_types": [b, c]}), sorted(ib + ic))
        self.assertEqual(ids({"client_id": "d", "schema_types": [b, c]}, f"&schemaType={a}"), sorted(ia + ib + ic))
        self.assertEqual(ids({"client_id": "d", "schema_types": [a, a]}, f"&schemaType={a}"), sorted(ia))
        self.assertEqual(ids({"client_id": "d", "schema_types": [utype("none")]}), [])
        page = self.ok_pull({"client_id": "d", "schema_types": [b]})
        self.assertEqual({r["id"]: r["deleted"] for r in page["records"]}, {ib[0]: True, ib[1]: False})
        # The filter holds across pages: limit 1 through the union of a and c.
        seen, query = [], f"?limit=1&schemaType={a}"
        page = self.ok_pull({"client_id": "d", "schema_types": [c]}, query)
        seen += page["records"]
        while page["has_more"]:
            page = self.ok_pull({"client_id": "d", "schema_types": [c]},
                                query + "&page_token=" + page["next_page_token"])
            self.assertLessEqual(len(page["records"]), 1)
            seen += page["records"]
        self.assertEqual(sorted(r["id"] for r in seen), sorted(ia + ic))

    def test_filters_of_every_statement_size(self):
        # Filters go to statements of 1, 2, 4, 8 or 16 types (padded), and longer ones
        # in parts of 16 merged by change_id: every count gives exactly the union, in order.
        types = [utype(f"F{k:02d}") for k in range(37)]
        # Interleaved, so a part's page and the merged page differ.
        self.ok_push([rec(uid(), types[(k * 7) % 37], {"k": k}) for k in range(111)])
        for n in (1, 2, 3, 5, 9, 16, 17, 37):
            with self.subTest(types=n):
                want = [(x[0], int(x[1])) for x in h.sql(
                    "SELECT id, change_id FROM sync_records WHERE schema_type IN (" +
                    ", ".join(f"'{t}'" for t in types[:n]) + ") ORDER BY change_id")]
                for limit in (4, 500):
                    seen, query = [], f"?limit={limit}"
                    page = self.ok_pull({"client_id": "d", "schema_types": types[:n]}, query)
                    seen += page["records"]
                    while page["has_more"]:
                        page = self.ok_pull({"client_id": "d"}, query + "&page_token=" + page["next_page_token"])
                        self.assertLessEqual(len(page["records"]), limit)
                        seen += page["records"]
                    self.assertEqual([(r["id"], r["change_id"]) for r in seen], want)

    def test_filter_validation(self):
        for body, query, field in (
                ({"client_id": "d", "schema_types": "A"}, "", "schema_types"),
                ({"client_id": "d", "schema_types": [1]}, "", "schema_types"),
                ({"client_id": "d", "schema_types": [""]}, "", "schema_types"),
                ({"client_id": "d", "schema_types": ["t" * 256]}, "", "schema_types"),
                ({"client_id": "d"}, "?schemaType=" + "t" * 256, "schemaType"),
                ({"client_id": "d"}, "?schemaType=", "schemaType"),
                ({"client_id": "d"}, "?schemaType=%FF%FE", "schemaType"),
                ({"client_id": "d"}, "?schemaType=%C3%28&limit=1", "schemaType"),
                ({"client_id": "d"}, "?schemaType=%ED%A0%80", "schemaType"),
                ({"client_id": "d", "after_change_id": -1}, "", "after_change_id"),
                ({"client_id": "d", "after_change_id": "5"}, "", "after_change_id"),
                ({"client_id": "d", "after_change_id": 1.5}, "", "after_change_id"),
                ({}, "", "client_id"),
                ({"client_id": ""}, "", "client_id"),
                ({"client_id": "c" * 129}, "", "client_id")):
            with self.subTest(body=str(body)[:60], query=query[:40]):
                self.assert_validation(pull(self.token, body, query), [field])
        # Limits count characters: 255 two-byte characters are a valid type.
        wide = "%C3%A9" * 255
        self.ok_pull({"client_id": "d"}, "?limit=1&schemaType=" + wide)

    def test_has_more_cutoff_and_page_token(self):
        t = utype()
        ids = self.push_n(t, 5)
        query = f"?limit=2&schemaType={t}"
        p1 = self.ok_pull({"client_id": "d"}, query)
        self.assertIs(p1["has_more"], True)
        self.assertEqual([r["id"] for r in p1["records"]], ids[:2])
        self.assertEqual(p1["change_cutoff"], p1["records"][-1]["change_id"])
        self.assertIsInstance(p1["next_page_token"], str)
        p2 = self.ok_pull({"client_id": "d"}, query + "&page_token=" + p1["next_page_token"])
        self.assertEqual([r["id"] for r in p2["records"]], ids[2:4])
        self.assertEqual(p2["change_cutoff"], p2["records"][-1]["change_id"])
        # The same token again gives the same page (a retried page fetch).
        p2b = self.ok_pull({"client_id": "d"}, query + "&page_token=" + p1["next_page_token"])
        self.assertEqual(p2b["records"], p2["records"])
        p3 = self.ok_pull({"client_id": "d"}, query + "&page_token=" + p2["next_page_token"])
        self.assertEqual([r["id"] for r in p3["records"]], ids[4:])
        self.assertIs(p3["has_more"], False)
        self.assertNotIn("next_page_token", p3)
        # Last page: the cutoff is the highest change_id committed when the first page
        # read its snapshot, beyond this type's records (the filtered pull advances).
        snapshot = p3["change_cutoff"]
        self.assertGreaterEqual(snapshot, p3["records"][-1]["change_id"])
        self.ok_push([rec(uid(), utype("other"))])
        self.assertGreater(db_counter(), snapshot)
        p3 = self.ok_pull({"client_id": "d"}, query + "&page_token=" + p2["next_page_token"])
        self.assertEqual(p3["change_cutoff"], snapshot)
        p = self.ok_pull({"client_id": "d", "after_change_id": 0}, f"?schemaType={t}")
        self.assertIs(p["has_more"], False)
        self.assertEqual(p["change_cutoff"], db_counter())
        self.assertGreater(p["change_cutoff"], p["records"][-1]["change_id"])
        # Passing change_cutoff back as after_change_id also continues exactly.
        p = self.ok_pull({"client_id": "d", "after_change_id": p1["change_cutoff"]}, query)
        self.assertEqual([r["id"] for r in p["records"]], ids[2:4])

    def test_later_pages_stay_in_the_first_pages_snapshot(self):
        # A pull ends even while pushes keep coming: its pages read nothing committed
        # after its first page, and the next pull from change_cutoff picks that up.
        t = utype()
        ids = self.push_n(t, 3)
        page = self.ok_pull({"client_id": "d"}, f"?limit=1&schemaType={t}")
        snapshot = db_counter()
        seen = [r["id"] for r in page["records"]]
        late = uid()
        self.ok_push([rec(late, t)])
        while page["has_more"]:
            page = self.ok_pull({"client_id": "d"}, f"?limit=1&schemaType={t}&page_token=" + page["next_page_token"])
            seen += [r["id"] for r in page["records"]]
        self.assertEqual(seen, ids)
        self.assertEqual(page["change_cutoff"], snapshot)
        after = self.ok_pull({"client_id": "d", "after_change_id": page["change_cutoff"]}, f"?schemaType={t}")
        self.assertEqual([r["id"] for r in after["records"]], [late])

    def test_empty_and_filtered_pulls_advance(self):
        a, b = utype("A"), utype("B")
        start = db_counter()
        self.ok_push([rec(uid(), b)])
        b_change = db_counter()
        self.assertGreater(b_change, start)
        page = self.ok_pull({"client_id": "d", "after_change_id": start}, f"?schemaType={a}")
        self.assertEqual(page["records"], [])
        self.assertIs(page["has_more"], False)
        self.assertNotIn("next_page_token", page)
        self.assertGreaterEqual(page["change_cutoff"], b_change)
        page = self.ok_pull({"client_id": "d", "after_change_id": 0, "schema_types": [a]})
        self.assertGreaterEqual(page["change_cutoff"], b_change)
        # At the head of the log an unfiltered pull is empty and keeps the cursor.
        page = self.ok_pull({"client_id": "d", "after_change_id": b_change})
        self.assertEqual((page["records"], page["change_cutoff"], page["has_more"]), ([], b_change, False))

    def test_paginate_to_the_end_every_record_once(self):
        t = utype()
        ids = self.push_n(t, 130)
        # Updates and deletes move records to the end of the log.
        self.ok_push([rec(i, t, {"k": i, "v": 2}) for i in ids[10:40]])
        self.ok_push([rec(i, t, {"k": i}, deleted=True) for i in ids[50:60]])
        self.ok_push([rec(uid(), utype("noise")) for _ in range(20)])
        for limit in (1, 7, 50, 500):
            with self.subTest(limit=limit):
                seen = self.pull_type(t, limit=limit)
                cids = [r["change_id"] for r in seen]
                self.assertTrue(all(x < y for x, y in zip(cids, cids[1:])), "change_id not strictly increasing")
                self.assertEqual(sorted(r["id"] for r in seen), sorted(ids))
                db = dict((row[0], int(row[1])) for row in h.sql(
                    f"SELECT id, change_id FROM sync_records WHERE schema_type = '{t}'"))
                self.assertEqual({r["id"]: r["change_id"] for r in seen}, db)
                self.assertEqual(sum(r["deleted"] for r in seen), 10)
        # Unfiltered, from a cursor, following next_page_token, up to the end.
        start = min(int(x[0]) for x in h.sql(f"SELECT change_id FROM sync_records WHERE schema_type = '{t}'")) - 1
        seen, page = [], self.ok_pull({"client_id": "d", "after_change_id": start}, "?limit=13")
        seen += page["records"]
        while page["has_more"]:
            self.assertEqual(page["change_cutoff"], page["records"][-1]["change_id"])
            page = self.ok_pull({"client_id": "d"}, "?limit=13&page_token=" + page["next_page_token"])
            seen += page["records"]
        cids = [r["change_id"] for r in seen]
        self.assertTrue(all(x < y for x, y in zip(cids, cids[1:])))
        db = h.sql(f"SELECT id, change_id FROM sync_records WHERE change_id > {start} ORDER BY change_id")
        self.assertEqual([(r["id"], r["change_id"]) for r in seen], [(x[0], int(x[1])) for x in db])
        self.assertEqual(page["change_cutoff"], db_counter())

    def test_page_token_tampering(self):
        t = utype()
        self.push_n(t, 4)
        query = f"?limit=1&schemaType={t}"
        token = self.ok_pull({"client_id": "d"}, query)["next_page_token"]
        payload_b64, mac_b64 = token.split(".")
        payload = bytearray(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
        altered_after = bytearray(payload)
        altered_after[7] ^= 0x01  # after_change_id's low byte
        altered_limit = bytearray(payload)
        altered_limit[17] = 200
        enc = lambda b: base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode()
        flip = lambda s, i: s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]
        bad = {
            "altered cursor, old mac": enc(altered_after) + "." + mac_b64,
            "altered limit, old mac": enc(altered_limit) + "." + mac_b64,
            "other filter, old mac": enc(payload[:-len(t)] + b"Z" * len(t)) + "." + mac_b64,
            "flipped payload char": flip(token, 3),
            "flipped mac char": flip(token, len(token) - 5),
            "truncated": token[:-6],
            "truncated payload": token[:5] + "." + mac_b64,
            "no mac": payload_b64,
            "empty mac": payload_b64 + ".",
            "extra part": token + ".AAAA",
            "appended": token + "A",
            "forged": enc(b"\x00" * 8 + b"\x00" * 8 + b"\x00\x05\x00\x00") + "." + enc(b"\x00" * 32),
            "garbage": "not-a-token",
            "long": "A" * 5000,
        }
        for name, tok in bad.items():
            with self.subTest(name):
                r = pull(self.token, {"client_id": "d"}, query + "&page_token=" + tok)
                self.assert_validation(r, ["page_token"])
        # The genuine token still works.
        self.assertEqual(len(self.ok_pull({"client_id": "d"}, query + "&page_token=" + token)["records"]), 1)

    def test_large_pull_is_sent_while_it_is_made(self):
        # issue 18, 0.7.0: a page is sent in pieces as it is rendered (handlers/sync.cpp),
        # so it has no Content-Length and comes chunked over HTTP/1.1; the bytes are a
        # held page's: whole JSON, every record, in change_id order, ending as always.
        t = utype()
        ids = self.push_n(t, 300, data={"blob": "y" * 1000, "q": "a\"b"})
        r = pull(self.token, {"client_id": "d"}, f"?limit=500&schemaType={t}")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("content-length"), r.headers)
        self.assertEqual(r.header("transfer-encoding"), "chunked", r.headers)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertGreater(len(r.body), 300 * 1000)
        self.assertTrue(r.body.endswith(b',"has_more":false,"sync_format_version":"1.0"}'), r.body[-100:])
        body = json.loads(r.body)
        self.assertEqual([x["id"] for x in body["records"]], ids)
        self.assertEqual(body["records"][0]["data"], {"blob": "y" * 1000, "q": "a\"b"})
        changes = [x["change_id"] for x in body["records"]]
        self.assertEqual(changes, sorted(changes))
        # Paged: the pieces end with the token and the cursor, as a held page does.
        r = pull(self.token, {"client_id": "d"}, f"?limit=200&schemaType={t}")
        page = json.loads(r.body)
        self.assertEqual(len(page["records"]), 200)
        self.assertTrue(page["has_more"])
        self.assertEqual(page["change_cutoff"], changes[199])
        rest = self.ok_pull({"client_id": "d"}, f"?limit=200&schemaType={t}&page_token=" + page["next_page_token"])
        self.assertEqual([x["id"] for x in rest["records"]], ids[200:])
        # A refused pull is still a problem+json with its length: the page is read
        # before the first byte goes out.
        bad = pull(self.token, {"client_id": "d"}, f"?limit=500&schemaType={t}&page_token=garbage")
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.header("content-type"), "application/problem+json")
        self.assertIsNotNone(bad.header("content-length"))

    def test_gzip_for_large_pull(self):
        t = utype()
        blob = "x" * 1000
        self.push_n(t, 200, data={"blob": blob})
        plain = pull(self.token, {"client_id": "d"}, f"?limit=500&schemaType={t}")
        self.assertEqual(plain.status, 200)
        self.assertIsNone(plain.header("content-encoding"))
        r = pull(self.token, {"client_id": "d"}, f"?limit=500&schemaType={t}",
                 headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertLess(len(r.body), len(plain.body) // 5)
        body = json.loads(gzip.decompress(r.body))
        self.assertEqual(body["records"], plain.json["records"])
        self.assertEqual(len(body["records"]), 200)
        # A push with gzip accepted still answers correctly.
        p = h.request("POST", "/sync/push", push_body([rec(uid(), t)]), token=self.token,
                      headers={"Accept-Encoding": "gzip"})
        self.assertEqual(p.status, 200)
        data = gzip.decompress(p.body) if p.header("content-encoding") == "gzip" else p.body
        self.assertEqual(json.loads(data)["success_count"], 1)


if __name__ == "__main__":
    unittest.main()
