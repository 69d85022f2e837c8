"""Bad input to /sync/push and /sync/pull through nginx: each gets the right 4xx (or,
for a bad record inside a valid push, a failed_records entry) and leaves the
database unchanged."""
import json
import unittest
import uuid

import harness as h


def tid():
    return str(uuid.uuid4())


def valid_record(rid=None, **over):
    r = {"id": rid or "bad-input-" + uuid.uuid4().hex, "schemaType": "bad-input", "schemaVersion": "1",
         "data": {"k": 1}}
    r.update(over)
    return r


def body_bytes(records=None, **over):
    b = {"transmission_id": tid(), "client_id": "bad-input-device", "records": records or []}
    b.update(over)
    return json.dumps(b).encode()


def nested(depth):
    return '{"a":' * depth + "1" + "}" * depth


def snapshot(tables=("sync_records", "sync_counter", "sync_conflicts", "sync_transmissions")):
    """Checksums of the sync tables, their row counts and the highest change_id (one
    round trip to the database)."""
    counts = " ".join(f"UNION ALL SELECT '{t}', COUNT(*) FROM {t}" for t in tables)
    rows = h.sql(f"CHECKSUM TABLE {', '.join(tables)} EXTENDED; "
                 f"SELECT 'max change_id', COALESCE(MAX(change_id), 0) FROM sync_records {counts}")
    return {tuple(r) for r in rows}


RECORD_TABLES = ("sync_records", "sync_counter", "sync_conflicts")


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")
        # Something in the tables, so an unchanged checksum means something.
        r = h.request("POST", "/sync/push", raw=body_bytes([valid_record() for _ in range(5)]), token=cls.token,
                      headers={"Content-Type": "application/json"})
        assert r.status == 200, r

    def send(self, path, raw, headers=None):
        hd = {"Content-Type": "application/json"}
        hd.update(headers or {})
        return h.request("POST", path, raw=raw, token=self.token, headers=hd)

    def assert_refused(self, path, raw, status, slug, fields=None):
        before = snapshot()
        r = self.send(path, raw)
        p = h.assert_problem(self, r, status, slug)
        if fields is not None:
            self.assertEqual({e["field"] for e in p.get("errors", [])}, set(fields), p)
        for leak in ("SELECT", "INSERT", "/tmp", "/work", "mysql", "MariaDB", "std::", "what()"):
            self.assertNotIn(leak, p["detail"], p)
        self.assertEqual(snapshot(), before, "the database changed")
        return p

    def test_push_refused_as_a_whole(self):
        wide = "\u00e9"
        cases = {
            "malformed JSON": (b'{"transmission_id": "', ["body"]),
            "trailing garbage": (body_bytes() + b"}", ["body"]),
            "trailing comma": (b'{"transmission_id": "%s", "client_id": "c", "records": [],}' % tid().encode(),
                               ["body"]),
            "empty body": (b"", ["body"]),
            "not JSON at all": (b"transmission_id=1&client_id=2", ["body"]),
            "array body": (b"[]", ["body"]),
            "string body": (b'"records"', ["body"]),
            "null body": (b"null", ["body"]),
            "number body": (b"42", ["body"]),
            "invalid UTF-8": (b'{"transmission_id": "%s", "client_id": "\xff\xfe", "records": []}' % tid().encode(),
                              ["body"]),
            "lone surrogate escape": (body_bytes()[:-1] + b', "x": "\\ud800"}', ["body"]),
            "number too big": (body_bytes([valid_record()])[:-1] + b', "x": 1e400}', ["body"]),
            "NaN": (body_bytes()[:-1] + b', "x": NaN}', ["body"]),
            "records a string": (body_bytes(records="[{}]"), ["records"]),
            "records an object": (body_bytes(records={"0": valid_record()}), ["records"]),
            "records a number": (body_bytes(records=3), ["records"]),
            "records null": (json.dumps({"transmission_id": tid(), "client_id": "c", "records": None}).encode(),
                             ["records"]),
            "transmission_id a number": (body_bytes(transmission_id=1), ["transmission_id"]),
            "transmission_id an object": (body_bytes(transmission_id={"id": tid()}), ["transmission_id"]),
            "transmission_id braced": (body_bytes(transmission_id="{" + tid() + "}"), ["transmission_id"]),
            "transmission_id with a dot": (body_bytes(transmission_id="g" * 8 + "." + tid()[9:]), ["transmission_id"]),
            "transmission_id of 65": (body_bytes(transmission_id="a" * 65), ["transmission_id"]),
            "transmission_id 10,000 chars": (body_bytes(transmission_id="a" * 10000), ["transmission_id"]),
            "client_id an array": (body_bytes(client_id=["c"]), ["client_id"]),
            "client_id true": (body_bytes(client_id=True), ["client_id"]),
            "client_id 129 wide chars": (body_bytes(client_id=wide * 129), ["client_id"]),
            "client_id of 1 MB": (body_bytes(client_id="c" * (1 << 20)), ["client_id"]),
            "1,001 records": (body_bytes([valid_record() for _ in range(1001)]), ["records"]),
            "data nested 1,000 levels": (body_bytes([valid_record()])[:-1].replace(
                b'"data": {"k": 1}', b'"data": ' + nested(1000).encode()) + b"}", ["body"]),
            "records nested 1,000 levels": (b'{"transmission_id": "%s", "client_id": "c", "records": %s%s}' % (
                tid().encode(), b"[" * 1000, b"]" * 1000), ["body"]),
            "all three wrong": (json.dumps({"transmission_id": None, "client_id": "", "records": "x"}).encode(),
                                ["transmission_id", "client_id", "records"]),
        }
        for name, (raw, fields) in cases.items():
            with self.subTest(name):
                self.assert_refused("/sync/push", raw, 400, "validation", fields)

    def test_push_body_over_16_mib_is_413_from_nginx(self):
        record = valid_record(data={"blob": "x" * 1000})
        n = (17 << 20) // len(json.dumps(record)) + 1
        raw = body_bytes([record] * n)
        self.assertGreater(len(raw), 17 << 20)
        before = snapshot()
        r = self.send("/sync/push", raw)
        h.assert_problem(self, r, 413, "payload-too-large")
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        self.assertEqual(snapshot(), before)
        # Also when the body is not even JSON, and on pull.
        for path in ("/sync/push", "/sync/pull"):
            r = self.send(path, b"x" * ((16 << 20) + 1))
            h.assert_problem(self, r, 413, "payload-too-large")
        self.assertEqual(snapshot(), before)

    def test_bad_records_fail_alone(self):
        """Wrong types and huge strings inside a record: 200, the record in
        failed_records, nothing written but the stored response."""
        cases = {
            "id of 10,000 chars": (valid_record("i" * 10000), "id"),
            "id a number": (valid_record(12), "id"),
            "id an object": (valid_record({"id": "x"}), "id"),
            "schemaType of 10,000 chars": (valid_record(schemaType="t" * 10000), "schemaType"),
            "schemaType an array": (valid_record(schemaType=["a"]), "schemaType"),
            "schemaVersion a number": (valid_record(schemaVersion=1), "schemaVersion"),
            "schemaVersion of 10,000 chars": (valid_record(schemaVersion="v" * 10000), "schemaVersion"),
            "data an array": (valid_record(data=[{"k": 1}]), "data"),
            "data a string": (valid_record(data='{"k": 1}'), "data"),
            "data a number": (valid_record(data=1), "data"),
            "data true": (valid_record(data=True), "data"),
            "data null": (valid_record(data=None), "data"),
            "data missing": ({"id": "no-data", "schemaType": "s", "schemaVersion": "1"}, "data"),
            "deleted a string": (valid_record(deleted="true"), "deleted"),
            "deleted a number": (valid_record(deleted=1), "deleted"),
            "record a string": ("record", None),
            "record null": (None, None),
            "record an array": ([valid_record()], None),
        }
        for name, (record, field) in cases.items():
            with self.subTest(name):
                before = snapshot(RECORD_TABLES)
                tx_rows = int(h.sql("SELECT COUNT(*) FROM sync_transmissions")[0][0])
                r = self.send("/sync/push", body_bytes([record]))
                self.assertEqual(r.status, 200, r)
                body = r.json
                self.assertEqual(body["success_count"], 0, body)
                self.assertEqual(len(body["failed_records"]), 1, body)
                f = body["failed_records"][0]
                self.assertEqual(f["index"], 0)
                if field:
                    self.assertIn(field, f["error"], f)
                self.assertEqual(snapshot(RECORD_TABLES), before, "records changed")
                self.assertEqual(int(h.sql("SELECT COUNT(*) FROM sync_transmissions")[0][0]), tx_rows + 1)
        # Duplicate keys are valid JSON the canonical form cannot hold: the record fails alone.
        raw = body_bytes([valid_record(data={"k": 1}), valid_record(id="fine-" + uuid.uuid4().hex)])
        raw = raw.replace(b'{"k": 1}', b'{"a": 1, "a": 2}', 1)
        r = self.send("/sync/push", raw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["success_count"], 1, r)
        self.assertEqual([f["index"] for f in r.json["failed_records"]], [0], r)
        self.assertIn("data", r.json["failed_records"][0]["error"])
        # A lone surrogate escape is not Unicode text: the body is malformed JSON, refused whole.
        before = snapshot(RECORD_TABLES)
        raw = body_bytes([valid_record(data={"k": 1})]).replace(b'{"k": 1}', b'{"a": "\\udc00"}')
        r = self.send("/sync/push", raw)
        h.assert_problem(self, r, 400, "validation")
        self.assertEqual([e["field"] for e in r.json["errors"]], ["body"])
        self.assertEqual(snapshot(RECORD_TABLES), before)

    def test_pull_refused(self):
        ok = json.dumps({"client_id": "c"}).encode()
        cases = {
            "malformed JSON": ("", b'{"client_id": ', ["body"]),
            "empty body": ("", b"", ["body"]),
            "array body": ("", b'["c"]', ["body"]),
            "invalid UTF-8": ("", b'{"client_id": "\xc3\x28"}', ["body"]),
            "client_id a number": ("", b'{"client_id": 5}', ["client_id"]),
            "client_id of 1 MB": ("", json.dumps({"client_id": "c" * (1 << 20)}).encode(), ["client_id"]),
            "after_change_id a string": ("", b'{"client_id": "c", "after_change_id": "0"}', ["after_change_id"]),
            "after_change_id negative": ("", b'{"client_id": "c", "after_change_id": -5}', ["after_change_id"]),
            "after_change_id fraction": ("", b'{"client_id": "c", "after_change_id": 0.5}', ["after_change_id"]),
            "after_change_id 1e30": ("", b'{"client_id": "c", "after_change_id": 1e30}', ["after_change_id"]),
            "after_change_id an array": ("", b'{"client_id": "c", "after_change_id": [1]}', ["after_change_id"]),
            "schema_types a string": ("", b'{"client_id": "c", "schema_types": "a"}', ["schema_types"]),
            "schema_types with null": ("", b'{"client_id": "c", "schema_types": ["a", null]}', ["schema_types"]),
            "schema_types nested": ("", b'{"client_id": "c", "schema_types": [["a"]]}', ["schema_types"]),
            "schema_types too long": ("", json.dumps({"client_id": "c", "schema_types": [
                f"type-{k:04d}-" + "x" * 240 for k in range(40)]}).encode(), ["schema_types"]),
            "deep nesting": ("", b'{"client_id": "c", "x": ' + nested(1000).encode() + b"}", ["body"]),
            "limit abc": ("?limit=abc", ok, ["limit"]),
            "limit 0": ("?limit=0", ok, ["limit"]),
            "limit 501": ("?limit=501", ok, ["limit"]),
            "schemaType 1,000 chars": ("?schemaType=" + "t" * 1000, ok, ["schemaType"]),
            "schemaType invalid UTF-8": ("?schemaType=%80", ok, ["schemaType"]),
            "page_token garbage": ("?page_token=abc.def", ok, ["page_token"]),
        }
        for name, (query, raw, fields) in cases.items():
            with self.subTest(name):
                self.assert_refused("/sync/pull" + query, raw, 400, "validation", fields)


if __name__ == "__main__":
    unittest.main()
