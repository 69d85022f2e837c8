"""CONTRACT §9 through nginx: GET /dataexport/parquet (read back by DuckDB and
hyparquet, which share no code with the server), the filters of both exports, and
the one-time download links of POST /dataexport/links.

The readers are npm packages that `make jsreaders` installs into build/jsreaders
(pinned in tests/js/package.json); `make test` does that first.
"""
import csv
import io
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import uuid
import zipfile

import harness as h

READERS = os.path.join(h.REPO, "build", "jsreaders")
PLANES = "A\u00e9\u4e2d\U0001F600\U00020000\U00030000\U000E0001\U000F0000\U0010FFFD"


def utype(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def push(token, records):
    body = {"transmission_id": str(uuid.uuid4()), "client_id": "parquet-test", "records": records}
    r = h.request("POST", "/sync/push", body, token=token)
    assert r.status == 200 and r.json["success_count"] == len(records), r
    return r


def rec(rid, schema_type, data, **extra):
    r = {"id": rid, "schemaType": schema_type, "schemaVersion": "1", "data": data}
    r.update(extra)
    return r


def get_zip(path):
    r = h.request("GET", path, token=h.admin_token(), conn=h.connection(timeout=300))
    assert r.status == 200, r
    return r, zipfile.ZipFile(io.BytesIO(r.body))


def query(fmt, **params):
    return f"/dataexport/{fmt}?" + urllib.parse.urlencode(params, doseq=True)


def read_parquet(zf):
    """{entry name: {"hyparquet": ..., "duckdb": ..., "num_row_groups": n}}"""
    script = os.path.join(READERS, "read_parquet.mjs")
    if not os.path.exists(os.path.join(READERS, "node_modules", "hyparquet")):
        raise AssertionError("the Parquet readers are not installed: run `make jsreaders`")
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for i, name in enumerate(zf.namelist()):
            p = os.path.join(d, f"{i}.parquet")
            with open(p, "wb") as f:
                f.write(zf.read(name))
            paths[p] = name
        out = subprocess.run(["node", script, *paths], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return {paths[p]: v for p, v in json.loads(out.stdout).items()}


def i64(n):
    return {"int64": str(n)}


class ParquetContentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        token = h.token_for("read-write")
        cls.main = utype("pq")
        cls.wide = utype("pqwide")
        cls.ids = {k: f"{k}-{uuid.uuid4().hex}" for k in ("a", "b", "empty", "gone", "w1", "w2")}
        push(token, [
            rec(cls.ids["a"], cls.main, {"n": 1.5, "i": 7, "flag": True, "s": "say \"hi\",\r\nline2 " + PLANES,
                                         "nest": {"a": {"b": "deep"}}, "arr": [1, "x", None, {"k": True}],
                                         "mixed": 1, "nul": None, "emptyobj": {}, "a.b": "dotted"}),
            rec(cls.ids["b"], cls.main, {"n": -2, "flag": False, "mixed": "one", "s": ""}),
            rec(cls.ids["empty"], cls.main, {}),
            rec(cls.ids["gone"], cls.main, {"n": 3}),
        ])
        push(token, [rec(cls.ids["gone"], cls.main, {"n": 3}, deleted=True)])
        h.sql("UPDATE sync_records SET created_at = '2026-03-01T10:00:00.000+01:00', geolocation = "
              "'{\"latitude\":47.3769,\"longitude\":8.5417}' " f"WHERE id = '{cls.ids['a']}'")
        wide = {f"k{c:04d}": c for c in range(1100)}
        push(token, [rec(cls.ids["w1"], cls.wide, wide), rec(cls.ids["w2"], cls.wide, {"k0007": "seven"})])
        cls.reply, cls.zip = get_zip(query("parquet", form_type=[cls.main, cls.wide]))
        cls.files = read_parquet(cls.zip)
        cls.change = {rid: int(v) for rid, v in h.sql(
            "SELECT id, change_id FROM sync_records WHERE schema_type IN ('%s', '%s')" % (cls.main, cls.wide))}
        cls.synced = {rid: v for rid, v in h.sql(
            "SELECT id, CONCAT(LEFT(DATE_FORMAT(last_modified, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f'), 23), 'Z') "
            "FROM sync_records WHERE schema_type = '%s'" % cls.main)}

    def test_response_is_a_zip_attachment_of_one_parquet_file_per_type(self):
        self.assertEqual(self.reply.header("content-type"), "application/zip")
        self.assertRegex(self.reply.header("content-disposition"),
                         r'^attachment; filename="synkronus-export-\d{8}T\d{6}Z-parquet\.zip"$')
        self.assertIsNone(self.reply.header("content-length"))
        self.assertEqual(sorted(self.zip.namelist()), sorted([self.main + ".parquet", self.wide + ".parquet"]))

    def expected_main(self):
        base = {"form_type": self.main, "form_version": "1", "created_at": None, "updated_at": None,
                "geolocation": None}
        nulls = {c: None for c in ("data_a\\.b", "data_arr", "data_emptyobj", "data_flag", "data_i", "data_mixed",
                                   "data_n", "data_nest.a.b", "data_nul", "data_s")}
        rows = {
            "a": {"created_at": "2026-03-01T10:00:00.000+01:00",
                  "geolocation": '{"latitude":47.3769,"longitude":8.5417}',
                  "data_a\\.b": "dotted", "data_arr": '[1,"x",null,{"k":true}]', "data_emptyobj": "{}",
                  "data_flag": True, "data_i": 7, "data_mixed": "1", "data_n": 1.5, "data_nest.a.b": "deep",
                  "data_s": "say \"hi\",\r\nline2 " + PLANES},
            "b": {"data_flag": False, "data_mixed": '"one"', "data_n": -2, "data_s": ""},
            "empty": {},
            "gone": {"data_n": 3},
        }
        out = []
        for k, v in rows.items():
            row = dict(base, **nulls)
            row.update(v)
            row.update({"observation_id": self.ids[k], "deleted": k == "gone", "version": i64(self.change[self.ids[k]]),
                        "synced_at": self.synced[self.ids[k]]})
            out.append(row)
        return sorted(out, key=lambda r: (r["synced_at"], int(r["version"]["int64"])))

    def test_both_readers_see_the_columns_and_types_of_section_9(self):
        f = self.files[self.main + ".parquet"]
        names = ["observation_id", "form_type", "form_version", "created_at", "updated_at", "synced_at", "deleted",
                 "version", "geolocation", "data_a\\.b", "data_arr", "data_emptyobj", "data_flag", "data_i",
                 "data_mixed", "data_n", "data_nest.a.b", "data_nul", "data_s"]
        duck = {c["name"]: c["type"] for c in f["duckdb"]["columns"]}
        self.assertEqual([c["name"] for c in f["duckdb"]["columns"]], names)
        self.assertEqual([c["name"] for c in f["hyparquet"]["columns"]], names)
        for c in ("observation_id", "synced_at", "geolocation", "data_arr", "data_mixed", "data_s", "data_nul"):
            self.assertEqual(duck[c], "VARCHAR", c)
        for c in ("deleted", "data_flag"):
            self.assertEqual(duck[c], "BOOLEAN", c)
        for c in ("data_n", "data_i"):
            self.assertEqual(duck[c], "DOUBLE", c)
        self.assertEqual(duck["version"], "BIGINT")
        hy = {c["name"]: c for c in f["hyparquet"]["columns"]}
        self.assertEqual(hy["data_s"]["type"], "BYTE_ARRAY")
        self.assertEqual(hy["data_s"]["logical"], "STRING")
        self.assertEqual(hy["version"]["type"], "INT64")
        self.assertEqual(hy["data_n"]["type"], "DOUBLE")

    def test_both_readers_see_exactly_the_pushed_values_and_nulls(self):
        f = self.files[self.main + ".parquet"]
        expected = self.expected_main()
        for reader in ("duckdb", "hyparquet"):
            with self.subTest(reader=reader):
                self.assertEqual(f[reader]["rows"], expected)

    def test_a_type_with_more_than_1000_columns(self):
        f = self.files[self.wide + ".parquet"]
        for reader in ("duckdb", "hyparquet"):
            with self.subTest(reader=reader):
                cols = f[reader]["columns"]
                self.assertEqual(len(cols), 9 + 1100)
                rows = f[reader]["rows"]
                self.assertEqual([r["observation_id"] for r in rows], [self.ids["w1"], self.ids["w2"]])
                self.assertEqual(rows[0]["data_k1099"], 1099)
                self.assertIsNone(rows[1]["data_k1099"])
                # k0007 holds a number and a string: JSON text for both.
                self.assertEqual(rows[0]["data_k0007"], "7")
                self.assertEqual(rows[1]["data_k0007"], '"seven"')

    def test_csv_and_parquet_exports_hold_the_same_rows(self):
        _, czip = get_zip(query("csv", form_type=[self.main]))
        rows = list(csv.reader(io.StringIO(czip.read(self.main + ".csv").decode(), newline="")))
        header, body = rows[0], rows[1:]
        c = [dict(zip(header, r)) for r in body]
        p = self.files[self.main + ".parquet"]["duckdb"]["rows"]
        self.assertEqual([r["observation_id"] for r in c], [r["observation_id"] for r in p])
        for cr, pr in zip(c, p):
            self.assertEqual(cr["synced_at"], pr["synced_at"])
            self.assertEqual(cr["deleted"], "true" if pr["deleted"] else "false")
            self.assertEqual(cr["s"], pr["data_s"] or "")
            self.assertEqual(cr["nest.a.b"], pr["data_nest.a.b"] or "")
            self.assertEqual(cr["arr"], pr["data_arr"] or "")
            if pr["data_n"] is not None:
                self.assertEqual(float(cr["n"]), pr["data_n"])

    def test_empty_store_selection_gives_an_empty_archive(self):
        _, z = get_zip(query("parquet", form_type=[utype("nothing")]))
        self.assertEqual(z.namelist(), [])


class FilterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        token = h.token_for("read-write")
        cls.t1, cls.t2, cls.t3 = utype("fa"), utype("fb"), utype("fc")
        cls.ids = {k: f"{k}-{uuid.uuid4().hex}" for k in ("old", "mid", "new", "gone", "other")}
        push(token, [rec(cls.ids["old"], cls.t1, {"x": 1}), rec(cls.ids["mid"], cls.t1, {"x": 2}),
                     rec(cls.ids["new"], cls.t1, {"x": 3}), rec(cls.ids["gone"], cls.t1, {"x": 4}),
                     rec(cls.ids["other"], cls.t2, {"y": 1})])
        push(token, [rec(cls.ids["gone"], cls.t1, {"x": 4}, deleted=True)])
        for k, t in (("old", "2020-01-01 00:00:00.000"), ("mid", "2020-06-01 12:00:00.000"),
                     ("new", "2021-01-01 00:00:00.000"), ("gone", "2020-06-01 12:00:00.500")):
            h.sql(f"UPDATE sync_records SET last_modified = '{t}' WHERE id = '{cls.ids[k]}'")

    def ids_in(self, fmt, **params):
        _, z = get_zip(query(fmt, **params))
        out = {}
        for name in z.namelist():
            if fmt == "csv":
                rows = list(csv.reader(io.StringIO(z.read(name).decode(), newline="")))[1:]
                out[name] = [r[0] for r in rows]
            else:
                out[name] = None
        return out

    def test_form_type_is_repeatable(self):
        got = self.ids_in("csv", form_type=[self.t2, self.t1])
        self.assertEqual(sorted(got), sorted([self.t1 + ".csv", self.t2 + ".csv"]))
        self.assertEqual(got[self.t2 + ".csv"], [self.ids["other"]])
        self.assertEqual(got[self.t1 + ".csv"],
                         [self.ids[k] for k in ("old", "mid", "gone", "new")])  # synced_at order

    def test_changed_after_and_before_are_exclusive_bounds_on_synced_at(self):
        got = self.ids_in("csv", form_type=self.t1, changed_after="2020-01-01T00:00:00Z",
                          changed_before="2021-01-01T00:00:00Z")
        self.assertEqual(got[self.t1 + ".csv"], [self.ids["mid"], self.ids["gone"]])
        got = self.ids_in("csv", form_type=self.t1, changed_after="2020-06-01T14:00:00.200+02:00")
        self.assertEqual(got[self.t1 + ".csv"], [self.ids["gone"], self.ids["new"]])

    def test_deleted_false_leaves_tombstones_out(self):
        got = self.ids_in("csv", form_type=self.t1, deleted="false")
        self.assertEqual(got[self.t1 + ".csv"], [self.ids[k] for k in ("old", "mid", "new")])
        got = self.ids_in("csv", form_type=self.t1, deleted="true")
        self.assertIn(self.ids["gone"], got[self.t1 + ".csv"])

    def test_parquet_takes_the_same_filters(self):
        _, z = get_zip(query("parquet", form_type=self.t1, deleted="false", changed_after="2020-01-01T00:00:00Z"))
        rows = read_parquet(z)[self.t1 + ".parquet"]["duckdb"]["rows"]
        self.assertEqual([r["observation_id"] for r in rows], [self.ids["mid"], self.ids["new"]])

    def test_a_time_filter_is_served_from_an_index(self):
        plan = h.sql("EXPLAIN SELECT change_id FROM sync_records FORCE INDEX (sync_records_by_type_synced) "
                     f"WHERE schema_type = '{self.t1}' AND (last_modified > '2020-01-01' OR "
                     "(last_modified = '2020-01-01' AND change_id > 5)) AND last_modified < '2021-01-01' "
                     "AND deleted <= 0 ORDER BY last_modified, change_id LIMIT 500")
        self.assertEqual(plan[0][3], "range", plan)
        self.assertEqual(plan[0][5], "sync_records_by_type_synced", plan)

    def test_bad_values_are_400_naming_the_field(self):
        for fmt in ("csv", "parquet"):
            for field, value in (("changed_after", "yesterday"), ("changed_before", "2026-13-01T00:00:00Z"),
                                 ("deleted", "no"), ("form_type", "")):
                with self.subTest(fmt=fmt, field=field):
                    r = h.request("GET", query(fmt, **{field: value}), token=h.admin_token())
                    p = h.assert_problem(self, r, 400, "validation")
                    self.assertEqual([e["field"] for e in p["errors"]], [field])


class LinkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.type = utype("link")
        cls.rid = f"l-{uuid.uuid4().hex}"
        push(h.token_for("read-write"), [rec(cls.rid, cls.type, {"v": "x"})])

    def make(self, **body):
        body.setdefault("format", "parquet")
        body.setdefault("form_type", self.type)
        r = h.request("POST", "/dataexport/links", body, token=h.admin_token())
        self.assertEqual(r.status, 201, r)
        return r.json

    def path_of(self, url):
        u = urllib.parse.urlsplit(url)
        self.assertEqual(u.scheme, "https")
        return u.path + "?" + u.query

    def test_a_link_works_once_without_a_token(self):
        link = self.make()
        self.assertEqual(set(link), {"url", "expires_at"})
        left = time.mktime(time.strptime(link["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())
        self.assertTrue(50 <= left <= 61, left)
        r = h.request("GET", self.path_of(link["url"]), conn=h.connection(timeout=300))
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.header("content-disposition"), r'^attachment; filename="synkronus-export-.*-parquet\.zip"$')
        z = zipfile.ZipFile(io.BytesIO(r.body))
        self.assertEqual(z.namelist(), [self.type + ".parquet"])
        rows = read_parquet(z)[self.type + ".parquet"]["hyparquet"]["rows"]
        self.assertEqual([(x["observation_id"], x["data_v"]) for x in rows], [(self.rid, "x")])
        h.assert_problem(self, h.request("GET", self.path_of(link["url"])), 404, "not-found")

    def test_csv_link_with_filters(self):
        link = self.make(format="csv", form_type=[self.type], deleted=False, changed_after="2000-01-01T00:00:00Z")
        r = h.request("GET", self.path_of(link["url"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(zipfile.ZipFile(io.BytesIO(r.body)).namelist(), [self.type + ".csv"])

    def test_late_and_forged_links_are_404(self):
        link = self.make()
        key = urllib.parse.parse_qs(urllib.parse.urlsplit(link["url"]).query)["key"][0]
        h.sql("UPDATE export_links SET expires_at = UNIX_TIMESTAMP() - 1 WHERE token_hash = SHA2('%s', 256)" % key)
        h.assert_problem(self, h.request("GET", self.path_of(link["url"])), 404, "not-found")
        forged = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
        for path in ("/dataexport/download?key=" + forged, "/dataexport/download", "/dataexport/download?key=x"):
            with self.subTest(path=path):
                h.assert_problem(self, h.request("GET", path), 404, "not-found")

    def test_only_one_of_many_concurrent_uses_wins(self):
        import concurrent.futures
        link = self.make()
        path = self.path_of(link["url"])
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            statuses = list(ex.map(lambda _: h.request("GET", path, conn=h.connection(timeout=300)).status, range(8)))
        self.assertEqual(sorted(statuses), [200] + [404] * 7)

    def test_the_secret_reaches_no_log(self):
        link = self.make()
        key = urllib.parse.parse_qs(urllib.parse.urlsplit(link["url"]).query)["key"][0]
        self.assertEqual(h.request("GET", self.path_of(link["url"])).status, 200)
        self.assertEqual(h.request("GET", self.path_of(link["url"])).status, 404)
        time.sleep(0.5)  # nginx writes its access log line when the request ends
        with open(os.path.join(h.STATE, "logs", "nginx-access.log"), encoding="utf-8", errors="replace") as f:
            access = f.read()
        self.assertIn("GET /dataexport/download HTTP", access)
        for log in ("nginx-access.log", "nginx-error.log", "workers.log"):
            with open(os.path.join(h.STATE, "logs", log), encoding="utf-8", errors="replace") as f:
                self.assertNotIn(key, f.read(), log)

    def test_links_are_for_admins_and_validate_their_body(self):
        h.assert_problem(self, h.request("POST", "/dataexport/links", {"format": "csv"}), 401, "unauthorized")
        r = h.request("POST", "/dataexport/links", {"format": "csv"}, token=h.token_for("read-write"))
        h.assert_problem(self, r, 403, "forbidden")
        r = h.request("POST", "/dataexport/links", {"format": "xls", "form_type": 3, "deleted": "no",
                                                    "changed_after": "soon"}, token=h.admin_token())
        p = h.assert_problem(self, r, 400, "validation")
        self.assertEqual(sorted(e["field"] for e in p["errors"]), ["changed_after", "deleted", "form_type", "format"])


if __name__ == "__main__":
    unittest.main()
