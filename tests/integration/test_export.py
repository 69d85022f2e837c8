"""CONTRACT §7 "Data export" through nginx: GET /dataexport/csv (a streamed ZIP of
per-form-type CSV files from one snapshot, in bounded memory) and
GET /dataexport/parquet (tests/integration/test_export_parquet.py).

Every export holds every record of the store, including other modules' records;
each test looks only at the files of its own (unique) form types. The bulk rows of
the snapshot and memory tests are written straight into MariaDB for speed and
removed again afterwards, so later modules do not page through them.
"""
import csv
import hashlib
import http.client
import io
import json
import os
import re
import subprocess
import tempfile
import time
import unittest
import uuid
import zipfile

import harness as h

FIXED = ["observation_id", "form_version", "created_at", "updated_at", "synced_at", "deleted",
         "latitude", "longitude", "accuracy", "altitude", "altitude_accuracy", "last_modified_by"]
SYNCED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def utype(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def push(token, records):
    body = {"transmission_id": str(uuid.uuid4()), "client_id": "export-test", "records": records}
    r = h.request("POST", "/sync/push", body, token=token)
    assert r.status == 200 and r.json["success_count"] == len(records), r
    return r


def rec(rid, schema_type, data, version="1", **extra):
    r = {"id": rid, "schemaType": schema_type, "schemaVersion": version, "data": data}
    r.update(extra)
    return r


def file_name(schema_type):
    """The archive's name for a type made of safe characters only."""
    return schema_type + ".csv"


def read_csv(zf, name):
    raw = zf.read(name)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return raw, rows[0], rows[1:]


def export_zip(token=None):
    r = h.request("GET", "/dataexport/csv", token=token or h.admin_token(), conn=h.connection(timeout=300))
    assert r.status == 200, r
    return r, zipfile.ZipFile(io.BytesIO(r.body))


def bulk_insert(schema_type, count, hex_chunks, id_prefix):
    """`count` records of `schema_type` written in one transaction, with change ids
    from the counter (as a push takes them). Data: {"n": i, "p": {"h0": <64 hex>, ...}},
    the hex from SHA-256 so that it does not compress away."""
    members = ", ".join("'%s\"h%d\":\"', SHA2(CONCAT('%s', seq, '/%d'), 256), '\"'"
                        % ("," if k else "", k, id_prefix, k) for k in range(hex_chunks))
    data = "CONCAT('{\"n\":', seq, ',\"p\":{', %s, '}}')" % members
    geo = '{"latitude":47.5,"longitude":8.25,"accuracy":4}'
    h.sql("START TRANSACTION; "
          "SELECT last_change_id INTO @base FROM sync_counter WHERE id = 1 FOR UPDATE; "
          "INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, change_id, "
          "last_modified, last_modified_by, origin_client_id, created_at, updated_at, geolocation) "
          f"SELECT CONCAT('{id_prefix}', seq), '{schema_type}', '1', {data}, SHA2(seq, 256), 0, @base + seq, "
          f"UTC_TIMESTAMP(3), 'bulk-loader', 'bulk', '2026-01-01T00:00:00Z', NULL, '{geo}' "
          f"FROM seq_1_to_{count}; "
          f"UPDATE sync_counter SET last_change_id = @base + {count} WHERE id = 1; COMMIT;")


def app_db_user():
    with open(os.path.join(h.STATE, "synkronus.conf")) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "db_user":
                return v.strip()
    raise AssertionError("no db_user in the stack config")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


class ExportAccessTest(unittest.TestCase):
    def test_csv_export_needs_a_token(self):
        r = h.request("GET", "/dataexport/csv")
        h.assert_problem(self, r, 401, "unauthorized")

    def test_csv_export_is_for_admins_only(self):
        for role in ("read-only", "read-write"):
            with self.subTest(role=role):
                r = h.request("GET", "/dataexport/csv", token=h.token_for(role))
                h.assert_problem(self, r, 403, "forbidden")

    def test_parquet_export_is_for_admins_only(self):
        h.assert_problem(self, h.request("GET", "/dataexport/parquet"), 401, "unauthorized")
        r = h.request("GET", "/dataexport/parquet", token=h.token_for("read-write"))
        h.assert_problem(self, r, 403, "forbidden")

    def test_only_get_is_routed(self):
        r = h.request("POST", "/dataexport/csv", token=h.admin_token())
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("allow"), "GET, HEAD")


class ExportContentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")
        cls.user = None
        cls.survey = utype("survey")
        cls.visit = utype("visit")
        cls.ids = {k: f"{k}-{uuid.uuid4().hex}" for k in ("a", "b", "gone", "v1")}
        push(cls.token, [
            rec(cls.ids["a"], cls.survey, {"name": "Zoë, \"the\" first\r\nline two", "age": 1.50,
                                           "household": {"size": 4, "head": {"name": "Ann"}},
                                           "tags": ["x", 2, {"k": None}], "empty": {}, "none": None,
                                           "blank": "", "a.b": "dotted", "big": 12345678901234567890},
                version="3"),
            rec(cls.ids["b"], cls.survey, {"age": 30, "extra": True}, version="4"),
            rec(cls.ids["gone"], cls.survey, {"age": 99}),
            rec(cls.ids["v1"], cls.visit, {"site": "north"}),
        ])
        # A tombstone: deleted with the data it was last pushed with.
        push(cls.token, [rec(cls.ids["gone"], cls.survey, {"age": 99}, deleted=True)])
        # The observation columns, as the app's push stores them.
        h.sql("UPDATE sync_records SET created_at = '2026-03-01T10:00:00.000+01:00', "
              "updated_at = '2026-03-02T11:00:00Z', geolocation = "
              "'{\"latitude\":47.3769,\"longitude\":8.5417,\"accuracy\":12.5,\"altitude\":408,"
              "\"altitude_accuracy\":null}' "
              f"WHERE id = '{cls.ids['a']}'")
        cls.reply, cls.zip = export_zip()

    def test_response_is_a_streamed_zip_attachment(self):
        r = self.reply
        self.assertEqual(r.header("content-type"), "application/zip")
        self.assertRegex(r.header("content-disposition"),
                         r'^attachment; filename="synkronus-export-\d{8}T\d{6}Z\.zip"$')
        self.assertIsNone(r.header("content-length"))  # made while sent
        self.assertEqual(r.header("transfer-encoding"), "chunked")
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertIsNone(r.header("x-accel-buffering"))  # consumed by nginx
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")

    def test_archive_passes_zipfile_and_unzip_checks(self):
        self.assertIsNone(self.zip.testzip())
        with tempfile.NamedTemporaryFile(suffix=".zip") as f:
            f.write(self.reply.body)
            f.flush()
            out = subprocess.run(["unzip", "-tq", f.name], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("No errors detected", out.stdout)

    def test_one_file_per_form_type(self):
        names = self.zip.namelist()
        self.assertEqual(len(names), len(set(names)))
        self.assertIn(file_name(self.survey), names)
        self.assertIn(file_name(self.visit), names)
        stored_types = {row[0] for row in h.sql("SELECT DISTINCT schema_type FROM sync_records")}
        self.assertEqual(len(names), len(stored_types))

    def test_header_is_the_fixed_columns_then_sorted_data_leaves(self):
        raw, header, _ = read_csv(self.zip, file_name(self.survey))
        self.assertEqual(header, FIXED + ["a\\.b", "age", "big", "blank", "empty", "extra", "household.head.name",
                                          "household.size", "name", "none", "tags"])
        self.assertTrue(raw.startswith(b"observation_id,form_version,"))
        self.assertFalse(raw.startswith(b"\xef\xbb\xbf"))  # no BOM
        # Every record ends in CRLF; the only bare LF is inside the quoted value.
        self.assertTrue(raw.endswith(b"\r\n"))
        self.assertEqual(raw.count(b"\n") - raw.count(b"\r\n"), 0)

    def test_rows_hold_the_records_with_tombstones(self):
        _, header, rows = read_csv(self.zip, file_name(self.survey))
        by_id = {row[0]: dict(zip(header, row)) for row in rows}
        self.assertEqual(set(by_id), {self.ids["a"], self.ids["b"], self.ids["gone"]})
        self.assertEqual([row[0] for row in rows], [self.ids["a"], self.ids["b"], self.ids["gone"]])  # change_id order
        a = by_id[self.ids["a"]]
        self.assertEqual(a["form_version"], "3")
        self.assertEqual(a["name"], "Zoë, \"the\" first\r\nline two")
        self.assertEqual(a["age"], "1.5")  # as stored: the push stores canonical JSON (RFC 8785)
        self.assertEqual(a["big"], "12345678901234567000")
        self.assertEqual(a["household.size"], "4")
        self.assertEqual(a["household.head.name"], "Ann")
        self.assertEqual(json.loads(a["tags"]), ["x", 2, {"k": None}])
        self.assertEqual(a["tags"], '["x",2,{"k":null}]')
        self.assertEqual(a["empty"], "{}")
        self.assertEqual(a["a\\.b"], "dotted")
        self.assertEqual(a["extra"], "")
        self.assertEqual(a["deleted"], "false")
        self.assertRegex(a["synced_at"], SYNCED_AT)
        self.assertEqual(a["last_modified_by"], h.sql(f"SELECT last_modified_by FROM sync_records "
                                                      f"WHERE id = '{self.ids['a']}'")[0][0])
        b = by_id[self.ids["b"]]
        self.assertEqual((b["form_version"], b["age"], b["extra"], b["name"]), ("4", "30", "true", ""))
        gone = by_id[self.ids["gone"]]
        self.assertEqual((gone["deleted"], gone["age"]), ("true", "99"))

    def test_null_and_empty_string_are_told_apart(self):
        raw, header, _ = read_csv(self.zip, file_name(self.survey))
        line = next(l for l in raw.split(b"\r\n") if l.startswith(self.ids["a"].encode()))
        # blank ("") is quoted, none (null) and extra (absent) are empty.
        cells = next(csv.reader([line.decode()]))
        self.assertEqual(cells[header.index("blank")], "")
        self.assertIn(b',"",', line)

    def test_observation_columns(self):
        _, header, rows = read_csv(self.zip, file_name(self.survey))
        by_id = {row[0]: dict(zip(header, row)) for row in rows}
        a = by_id[self.ids["a"]]
        self.assertEqual((a["created_at"], a["updated_at"]), ("2026-03-01T10:00:00.000+01:00", "2026-03-02T11:00:00Z"))
        self.assertEqual([a[k] for k in ("latitude", "longitude", "accuracy", "altitude", "altitude_accuracy")],
                         ["47.3769", "8.5417", "12.5", "408", ""])
        b = by_id[self.ids["b"]]  # pushed by the older client: no observation fields
        self.assertEqual([b[k] for k in FIXED[2:4] + FIXED[6:11]], [""] * 7)

    def test_other_form_types_get_their_own_columns(self):
        _, header, rows = read_csv(self.zip, file_name(self.visit))
        self.assertEqual(header, FIXED + ["site"])
        self.assertEqual([(r[0], r[-1]) for r in rows], [(self.ids["v1"], "north")])


class ExportFileNameTest(unittest.TestCase):
    def test_hostile_form_types_get_safe_unique_names(self):
        token = h.token_for("read-write")
        u = uuid.uuid4().hex[:8]
        types = [f"../../etc/passwd{u}", f"a/b{u}", f"a:b{u}", f"ctl\x01\x1f{u}", f"..{u}", f"Zürich{u}"]
        push(token, [rec(f"fn-{i}-{uuid.uuid4().hex}", t, {"i": i}) for i, t in enumerate(types)])
        _, zf = export_zip()
        names = zf.namelist()
        self.assertEqual(len(names), len(set(names)))
        for n in names:
            self.assertNotIn("/", n)
            self.assertNotIn("\\", n)
            self.assertNotIn("..", n)
            self.assertFalse(any(ord(c) < 0x20 or ord(c) == 0x7f for c in n), n)
        # Each hostile type has its own file, holding exactly its record.
        found = {}
        for n in names:
            if u in n:
                _, header, rows = read_csv(zf, n)
                self.assertEqual(len(rows), 1, n)
                found[n] = rows[0][header.index("i")]
        self.assertEqual(sorted(found.values()), [str(i) for i in range(len(types))])
        for i, t in enumerate(types):
            digest = hashlib.sha256(t.encode()).hexdigest()[:12]
            self.assertTrue(any(n.endswith(f"-{digest}.csv") and found[n] == str(i) for n in found), t)


class ExportSnapshotTest(unittest.TestCase):
    """A large form type keeps the worker busy (and blocked on the client) while the
    test changes records that the export has not reached yet."""
    BULK = 80000

    @classmethod
    def setUpClass(cls):
        u = uuid.uuid4().hex[:10]
        cls.bulk_type = f"bulkA-{u}"  # sorts before the target type
        cls.prefix = f"snap-{u}-"
        bulk_insert(cls.bulk_type, cls.BULK, 6, cls.prefix)
        cls.target = f"zsnap-{u}"
        cls.token = h.token_for("read-write")
        cls.rid = [f"t{i}-{uuid.uuid4().hex}" for i in range(4)]
        push(cls.token, [rec(cls.rid[0], cls.target, {"v": "old0"}), rec(cls.rid[1], cls.target, {"v": "old1"}),
                         rec(cls.rid[2], cls.target, {"v": "old2"})])

    @classmethod
    def tearDownClass(cls):
        h.sql(f"DELETE FROM sync_records WHERE schema_type = '{cls.bulk_type}'")

    def start_export(self):
        conn = h.connection(timeout=300)
        conn.request("GET", "/dataexport/csv", headers={"Authorization": "Bearer " + h.admin_token()})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        first = resp.read(65536)
        self.assertEqual(first[:4], b"PK\x03\x04")
        return conn, resp, first

    def test_a_record_changed_during_the_export_keeps_its_snapshot_value(self):
        conn, resp, first = self.start_export()
        try:
            # The worker is now writing the bulk file; these commit before it reaches the target type.
            push(self.token, [rec(self.rid[0], self.target, {"v": "new0", "added": 1}),
                              rec(self.rid[1], self.target, {"v": "old1"}, deleted=True),
                              rec(self.rid[3], self.target, {"v": "new3"})])
            last_bulk = f"{self.prefix}{self.BULK}"
            h.sql(f"UPDATE sync_records SET data = '{{\"n\":-1}}' WHERE id = '{last_bulk}'")
            self.assertEqual(h.sql(f"SELECT data FROM sync_records WHERE id = '{last_bulk}'"), [['{"n":-1}']])
            body = first + resp.read()
        finally:
            conn.close()
        zf = zipfile.ZipFile(io.BytesIO(body))
        self.assertIsNone(zf.testzip())
        _, header, rows = read_csv(zf, file_name(self.target))
        self.assertEqual(header, FIXED + ["v"])  # no column `added`: the first pass saw the snapshot too
        got = [(r[0], r[header.index("deleted")], r[-1]) for r in rows]
        self.assertEqual(got, [(self.rid[0], "false", "old0"), (self.rid[1], "false", "old1"),
                               (self.rid[2], "false", "old2")])
        with zf.open(file_name(self.bulk_type)) as f:
            reader = csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))
            header = next(reader)
            n = 0
            for row in reader:
                n += 1
                last = row
        self.assertEqual(n, self.BULK)
        self.assertEqual((last[0], last[header.index("n")]), (f"{self.prefix}{self.BULK}", str(self.BULK)))

    def test_an_error_after_the_first_byte_cuts_the_response_off(self):
        conn, resp, first = self.start_export()
        try:
            user = app_db_user()
            for (cid,) in h.sql(f"SELECT id FROM information_schema.processlist WHERE user = '{user}'"):
                h.sql(f"KILL CONNECTION {cid}")
            with self.assertRaises((http.client.IncompleteRead, ConnectionError)):
                body = first + resp.read()
        finally:
            conn.close()
        with self.assertRaises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(first))
        # The worker rolled back, reconnects and serves again.
        r = h.request("GET", "/users", token=h.admin_token())
        self.assertEqual(r.status, 200, r)
        log = open(os.path.join(h.STATE, "logs", "workers.log")).read()
        self.assertIn("streamed response failed part-way, aborting it", log)


class ExportMemoryTest(unittest.TestCase):
    """200,000 records: the serving worker's peak RSS stays bounded while the archive
    and the CSV it holds are many times larger. VmHWM is reset (clear_refs 5) on every
    worker first, so earlier requests' peaks do not count; the serving worker is the
    one that spent the CPU time, and every worker must stay under the bound."""
    RECORDS = 200000
    LIMIT_MIB = 64

    @classmethod
    def setUpClass(cls):
        u = uuid.uuid4().hex[:10]
        cls.big_type = f"big-{u}"
        cls.prefix = f"big-{u}-"
        t0 = time.time()
        for start in range(0, cls.RECORDS, 50000):
            bulk_insert(cls.big_type, 50000, 10, cls.prefix + f"{start // 50000}-")
        cls.insert_s = time.time() - t0

    @classmethod
    def tearDownClass(cls):
        h.sql(f"DELETE FROM sync_records WHERE schema_type = '{cls.big_type}'")

    def test_peak_rss_of_the_serving_worker_stays_bounded(self):
        pids = h.worker_pids()
        before = {}
        for pid in pids:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
            before[pid] = vm_hwm_kib(pid)
        cpu_before = {pid: cpu_ticks(pid) for pid in pids}
        t0 = time.time()
        size = 0
        with tempfile.TemporaryFile() as out:
            conn = h.connection(timeout=300)
            try:
                conn.request("GET", "/dataexport/csv", headers={"Authorization": "Bearer " + h.admin_token()})
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                while True:
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    size += len(chunk)
                    out.write(chunk)
            finally:
                conn.close()
            export_s = time.time() - t0
            after = {pid: vm_hwm_kib(pid) for pid in pids}
            cpu = {pid: cpu_ticks(pid) - cpu_before[pid] for pid in pids}
            out.seek(0)
            zf = zipfile.ZipFile(out)
            info = zf.getinfo(file_name(self.big_type))
            with zf.open(info) as f:  # reading to the end checks the CRC
                reader = csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))
                header = next(reader)
                rows = sum(1 for _ in reader)
        self.assertEqual(rows, self.RECORDS)
        self.assertEqual(header[:len(FIXED)], FIXED)
        serving = max(pids, key=lambda p: cpu[p])  # the export costs its worker seconds of CPU
        peak_mib = after[serving] / 1024
        growth_mib = (after[serving] - before[serving]) / 1024
        print(f"\n  export of {self.RECORDS} records: zip {size / 2**20:.1f} MiB, csv {info.file_size / 2**20:.1f} MiB, "
              f"{export_s:.1f}s (insert {self.insert_s:.1f}s); serving worker {serving} "
              f"({cpu[serving] / os.sysconf('SC_CLK_TCK'):.1f}s CPU): VmHWM {peak_mib:.1f} MiB "
              f"(start {before[serving] / 1024:.1f} MiB, growth {growth_mib:.1f} MiB)", flush=True)
        self.assertGreater(cpu[serving], os.sysconf("SC_CLK_TCK"))  # it did the work: more than 1 s of CPU
        self.assertGreater(size, self.LIMIT_MIB * 2**20)
        self.assertGreater(info.file_size, 2 * self.LIMIT_MIB * 2**20)
        if not h.SANITIZED:
            for pid in pids:
                self.assertLess(after[pid], self.LIMIT_MIB * 1024, f"worker {pid} peaked at {after[pid] / 1024:.1f} MiB")


if __name__ == "__main__":
    unittest.main()
