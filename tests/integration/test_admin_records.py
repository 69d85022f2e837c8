"""CONTRACT §8, records and attachments for admins: GET /admin/records under each
filter with its opaque cursor, GET /admin/records/{id} with the history pushes keep
(push and conflict, exactly one row per accepted change, replays included) and the
attachments its data names, GET /admin/attachments with references kept by pushes,
and the 400s and 403s of bad input and non-admins.

The tests share one stack; every test makes its own form types, clients and users."""
import os
import subprocess
import time
import unittest
import urllib.parse
import uuid

import harness as h

RECORD_FIELDS = {"id", "schemaType", "schemaVersion", "change_id", "last_modified", "observation_id", "form_type",
                 "form_version", "version", "synced_at", "data", "hash", "deleted", "last_modified_by",
                 "origin_client_id", "created_at", "updated_at", "geolocation"}
HISTORY_FIELDS = {"change_id", "hash", "deleted", "data", "created_at", "updated_at", "geolocation", "modified_by",
                  "client_id", "synced_at", "replaced_by"}


def uid(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def push(token, records, client_id="c1", tid=None):
    body = {"transmission_id": tid or str(uuid.uuid4()), "client_id": client_id, "records": records}
    r = h.request("POST", "/sync/push", body, token=token)
    assert r.status == 200, r
    assert r.json["failed_records"] == [], r.json
    return r.json


def rec(rid, form_type, data, **kw):
    r = {"id": rid, "schemaType": form_type, "schemaVersion": "1", "data": data}
    r.update(kw)
    return r


def get(path, token=None, **query):
    q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    return h.request("GET", path + ("?" + q if q else ""), token=token or h.admin_token())


def all_pages(path, key, limit, **query):
    """Every item of a list route, following next_cursor."""
    items, cursor, pages = [], None, 0
    while True:
        r = get(path, limit=limit, cursor=cursor, **query)
        assert r.status == 200, r
        items += r.json[key]
        pages += 1
        assert len(r.json[key]) <= limit
        cursor = r.json.get("next_cursor")
        if cursor is None:
            return items, pages
        assert len(r.json[key]) == limit, "a page before the last is full"


def upload(att_id, data=b"bytes", token=None):
    boundary = "b" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    r = h.request("PUT", "/attachments/" + att_id, token=token or h.admin_token(), raw=body,
                  headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert r.status == 200, r


HANDLER_READS = ("Handler_read_first", "Handler_read_key", "Handler_read_last", "Handler_read_next",
                 "Handler_read_prev", "Handler_read_rnd", "Handler_read_rnd_next")


def rows_read():
    """Rows the server read, all sessions (MariaDB's handler counters)."""
    rows = h.sql("SHOW GLOBAL STATUS WHERE Variable_name IN (%s)" % ",".join("'%s'" % v for v in HANDLER_READS))
    return sum(int(v) for _, v in rows)


_tok = {}


def rw(name="rw"):
    if name not in _tok:
        user, pw = h.make_user("read-write")
        _tok[name] = (user, h.login(user, pw)["token"])
    return _tok[name]


class RecordList(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user_a, cls.tok_a = rw("a")
        cls.user_b, cls.tok_b = rw("b")
        cls.ft1, cls.ft2 = uid("ft"), uid("ft")
        cls.c1, cls.c2 = uid("client"), uid("client")
        cls.ids = [uid("r") for _ in range(7)]
        i = cls.ids
        push(cls.tok_a, [rec(i[0], cls.ft1, {"n": 0}), rec(i[1], cls.ft1, {"n": 1})], cls.c1)
        time.sleep(0.05)
        cls.middle = time.time()
        time.sleep(0.05)
        push(cls.tok_b, [rec(i[2], cls.ft2, {"n": 2}), rec(i[3], cls.ft1, {"n": 3})], cls.c2)
        push(cls.tok_a, [rec(i[4], cls.ft2, {"n": 4}, deleted=True), rec(i[5], cls.ft1, {"n": 5})], cls.c2)
        push(cls.tok_b, [rec(i[6], cls.ft2, {"n": 6})], cls.c1)

    def ours(self, items):
        return [r["id"] for r in items if r["id"] in self.ids]

    def test_each_filter_newest_change_first(self):
        i = self.ids
        rfc = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.middle)) + ".%03dZ" % int(self.middle % 1 * 1000)
        cases = [
            ({"form_type": self.ft1}, [i[5], i[3], i[1], i[0]]),
            ({"form_type": self.ft2}, [i[6], i[4], i[2]]),
            ({"client_id": self.c1}, [i[6], i[1], i[0]]),
            ({"username": self.user_b}, [i[6], i[3], i[2]]),
            ({"form_type": self.ft2, "deleted": "true"}, [i[4]]),
            ({"form_type": self.ft2, "deleted": "false"}, [i[6], i[2]]),
            ({"form_type": self.ft1, "changed_before": rfc}, [i[1], i[0]]),
            ({"form_type": self.ft1, "changed_after": rfc}, [i[5], i[3]]),
            ({"client_id": self.c2, "username": self.user_a}, [i[5], i[4]]),
        ]
        for query, expected in cases:
            items, _ = all_pages("/admin/records", "records", 500, **query)
            self.assertEqual(self.ours(items), expected, query)
            # Filters alone (form types, clients and users are this test's own): nothing else.
            if "changed_before" not in query and "changed_after" not in query and query != {"deleted": "true"}:
                self.assertEqual(len(items), len(expected), query)
        # deleted alone and the time filters alone (other tests' records are there too)
        dele, _ = all_pages("/admin/records", "records", 500, deleted="true")
        self.assertIn(i[4], [r["id"] for r in dele])
        self.assertTrue(all(r["deleted"] for r in dele))
        after, _ = all_pages("/admin/records", "records", 500, changed_after=rfc)
        self.assertEqual([x for x in self.ours(after)], [i[6], i[5], i[4], i[3], i[2]])
        before = get("/admin/records", changed_before=rfc, limit=500).json["records"]
        self.assertNotIn(i[2], [r["id"] for r in before])

    def test_record_fields_are_both_shapes_plus_who_and_where(self):
        r = get("/admin/records", form_type=self.ft1, limit=1).json["records"][0]
        self.assertEqual(set(r), RECORD_FIELDS)
        self.assertEqual((r["id"], r["observation_id"], r["form_type"], r["schemaType"]), (self.ids[5], self.ids[5], self.ft1, self.ft1))
        self.assertEqual(r["change_id"], r["version"])
        self.assertEqual(r["last_modified_by"], self.user_a)
        self.assertEqual(r["origin_client_id"], self.c2)
        self.assertEqual(r["data"], {"n": 5})

    def test_pages_follow_the_cursor_without_gaps_or_repeats(self):
        whole, _ = all_pages("/admin/records", "records", 500, form_type=self.ft1)
        for limit in (1, 2, 3):
            paged, pages = all_pages("/admin/records", "records", limit, form_type=self.ft1)
            self.assertEqual([r["id"] for r in paged], [r["id"] for r in whole])
            self.assertEqual(pages, -(-len(whole) // limit))
        changes = [r["change_id"] for r in whole]
        self.assertEqual(changes, sorted(changes, reverse=True))
        # Without a filter: the newest records of the store, descending.
        first = get("/admin/records", limit=3).json
        self.assertEqual(len(first["records"]), 3)
        c = [r["change_id"] for r in first["records"]]
        self.assertEqual(c, sorted(c, reverse=True))
        self.assertEqual(c[0], int(h.sql("SELECT MAX(change_id) FROM sync_records")[0][0]))
        nxt = get("/admin/records", limit=3, cursor=first["next_cursor"]).json
        self.assertLess(nxt["records"][0]["change_id"], c[-1])
        # A time-filtered list pages too.
        paged, _ = all_pages("/admin/records", "records", 1, changed_after="2000-01-01T00:00:00Z", form_type=self.ft2)
        self.assertEqual([r["id"] for r in paged], [self.ids[6], self.ids[4], self.ids[2]])

    def test_default_limit_is_100(self):
        user, tok = rw("bulk")
        ft = uid("bulk")
        push(tok, [rec(uid("b"), ft, {"k": k}) for k in range(101)])
        r = get("/admin/records", form_type=ft)
        self.assertEqual(len(r.json["records"]), 100)
        self.assertIn("next_cursor", r.json)
        r2 = get("/admin/records", form_type=ft, cursor=r.json["next_cursor"])
        self.assertEqual(len(r2.json["records"]), 1)
        self.assertNotIn("next_cursor", r2.json)

    def test_bad_filters_and_cursors_name_the_field(self):
        cursor = get("/admin/records", form_type=self.ft1, limit=1).json["next_cursor"]
        other = get("/admin/attachments", limit=1)
        cases = [
            ({"changed_after": "yesterday"}, "changed_after"),
            ({"changed_before": "2026-13-01T00:00:00Z"}, "changed_before"),
            ({"changed_after": "2026-11-28 21:09:34"}, "changed_after"),
            ({"deleted": "maybe"}, "deleted"),
            ({"deleted": "1"}, "deleted"),
            ({"limit": "0"}, "limit"),
            ({"limit": "501"}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"form_type": ""}, "form_type"),
            ({"client_id": "x" * 129}, "client_id"),
            ({"cursor": "forged.cursor"}, "cursor"),
            ({"cursor": cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), "form_type": self.ft1}, "cursor"),
            # the same cursor under other filters, or none
            ({"cursor": cursor, "form_type": self.ft2}, "cursor"),
            ({"cursor": cursor}, "cursor"),
            ({"cursor": cursor, "form_type": self.ft1, "deleted": "false"}, "cursor"),
        ]
        for query, field in cases:
            r = get("/admin/records", **query)
            p = h.assert_problem(self, r, 400, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], [field], query)
        # A cursor of the attachment list is foreign here, and the other way round.
        if "next_cursor" in other.json:
            r = get("/admin/records", cursor=other.json["next_cursor"])
            self.assertEqual(h.assert_problem(self, r, 400, "validation")["errors"][0]["field"], "cursor")
        r = get("/admin/attachments", cursor=cursor)
        self.assertEqual(h.assert_problem(self, r, 400, "validation")["errors"][0]["field"], "cursor")
        r = get("/admin/attachments", unreferenced="yes")
        self.assertEqual(h.assert_problem(self, r, 400, "validation")["errors"][0]["field"], "unreferenced")
        # the cursor still works where it belongs
        self.assertEqual(get("/admin/records", form_type=self.ft1, limit=1, cursor=cursor).status, 200)

    def test_non_admins_get_403_and_anonymous_401(self):
        for role in ("read-only", "read-write"):
            tok = h.token_for(role)
            for path in ("/admin/records", "/admin/records/" + self.ids[0], "/admin/attachments"):
                h.assert_problem(self, get(path, token=tok), 403, "forbidden")
        for path in ("/admin/records", "/admin/records/" + self.ids[0], "/admin/attachments"):
            h.assert_problem(self, h.request("GET", path), 401, "unauthorized")

    def test_every_filter_reads_about_one_page_of_rows(self):
        # Noise the filters must not read: 400 records of another form, client and user.
        _, tok = rw("noise")
        for _ in range(2):
            push(tok, [rec(uid("n"), uid("noise"), {"k": k}) for k in range(200)], uid("noise"))
        rfc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.middle))
        for query in ({"form_type": self.ft1}, {"client_id": self.c1}, {"username": self.user_b},
                      {"deleted": "true"}, {"changed_before": rfc}, {"changed_after": "2000-01-01T00:00:00Z"}, {}):
            get("/admin/records", limit=2, **query)  # warm: the worker's auth cache, statements
            best = None
            for _ in range(3):  # take the least: the counters are global
                a = rows_read()
                b = rows_read()  # what reading the counters itself costs
                r = get("/admin/records", limit=2, **query)
                n = rows_read() - b - (b - a)
                best = n if best is None else min(best, n)
            self.assertEqual(r.status, 200)
            # limit + 1 rows (3 measured), a few more for a token check; a scan
            # of the 400 noise records would be far above this
            self.assertLessEqual(best, 8, query)


class History(unittest.TestCase):
    def test_push_and_conflict_versions_newest_first(self):
        user, tok = rw("hist")
        rid, ft, client = uid("h"), uid("ft"), uid("client")
        v1 = push(tok, [rec(rid, ft, {"v": 1})], client)
        d = get("/admin/records/" + rid).json
        self.assertEqual(d["history"], [])
        h1 = d["record"]["hash"]
        push(tok, [rec(rid, ft, {"v": 2}, hash=h1)], client)  # saw v1: a plain push
        d2 = get("/admin/records/" + rid).json
        push(tok, [rec(rid, ft, {"v": 3}, hash=h1)], uid("other"))  # saw v1, v2 is stored: a conflict
        push(tok, [rec(rid, ft, {"v": 3}, hash=h1)], uid("other"))  # no-op: nothing kept
        d3 = get("/admin/records/" + rid).json
        self.assertEqual(set(d3), {"record", "history", "attachments"})
        self.assertEqual(d3["record"]["data"], {"v": 3})
        hist = d3["history"]
        self.assertEqual([x["data"] for x in hist], [{"v": 2}, {"v": 1}])
        self.assertEqual([x["replaced_by"] for x in hist], ["conflict", "push"])
        for x in hist:
            self.assertEqual(set(x), HISTORY_FIELDS)
            self.assertEqual((x["modified_by"], x["client_id"], x["deleted"]), (user, client, False))
        self.assertEqual(hist[0]["change_id"], d2["record"]["change_id"])
        self.assertEqual(hist[0]["hash"], d2["record"]["hash"])
        self.assertEqual(hist[0]["synced_at"], d2["record"]["synced_at"])
        self.assertEqual(hist[1]["change_id"], d["record"]["change_id"])
        self.assertEqual(hist[1]["hash"], h1)
        self.assertGreater(v1["current_version"], 0)

    def test_observation_fields_and_tombstones_are_kept(self):
        _, tok = rw("hist")
        oid, ft = uid("obs"), uid("ft")
        geo = {"latitude": 1.5, "longitude": -2.25, "accuracy": 3, "altitude": None, "altitude_accuracy": None}
        obs = {"observation_id": oid, "form_type": ft, "form_version": "2", "data": {"a": "b"}, "deleted": False,
               "created_at": "2026-11-28T21:09:34.123Z", "updated_at": "2026-11-28T21:10:01Z", "geolocation": geo}
        push(tok, [obs])
        push(tok, [dict(obs, deleted=True, updated_at="2026-11-29T00:00:00Z")])
        push(tok, [dict(obs, deleted=False, data={"a": "c"})])
        hist = get("/admin/records/" + oid).json["history"]
        self.assertEqual([x["deleted"] for x in hist], [True, False])
        self.assertEqual(hist[1]["created_at"], "2026-11-28T21:09:34.123Z")
        self.assertEqual(hist[1]["updated_at"], "2026-11-28T21:10:01Z")
        self.assertEqual(hist[1]["geolocation"], geo)
        self.assertEqual(hist[0]["updated_at"], "2026-11-29T00:00:00Z")

    def test_replays_keep_one_row_per_accepted_change(self):
        _, tok = rw("hist")
        rid, ft = uid("rp"), uid("ft")
        push(tok, [rec(rid, ft, {"v": 1})])
        tid = str(uuid.uuid4())
        bodies = set()
        for _ in range(5):
            r = h.request("POST", "/sync/push", {"transmission_id": tid, "client_id": "c1",
                                                 "records": [rec(rid, ft, {"v": 2})]}, token=tok)
            self.assertEqual(r.status, 200, r)
            bodies.add(r.body)
        self.assertEqual(len(bodies), 1)
        rows = h.sql("SELECT COUNT(*) FROM sync_record_history WHERE record_id = '%s'" % rid)
        self.assertEqual(rows, [["1"]])
        self.assertEqual([x["data"] for x in get("/admin/records/" + rid).json["history"]], [{"v": 1}])

    def test_an_id_pushed_twice_in_one_push_keeps_only_the_stored_version(self):
        _, tok = rw("hist")
        rid, ft = uid("tw"), uid("ft")
        push(tok, [rec(rid, ft, {"v": 1})])
        push(tok, [rec(rid, ft, {"v": 2}), rec(rid, ft, {"v": 3})])
        d = get("/admin/records/" + rid).json
        self.assertEqual(d["record"]["data"], {"v": 3})
        self.assertEqual([x["data"] for x in d["history"]], [{"v": 1}])

    def test_unknown_record_is_404(self):
        h.assert_problem(self, get("/admin/records/" + uid("nope")), 404, "not-found")


class Attachments(unittest.TestCase):
    def listed(self, **query):
        items, _ = all_pages("/admin/attachments", "attachments", 500, **query)
        return {a["attachment_id"]: a for a in items}

    def test_references_follow_pushes_and_the_unreferenced_filter(self):
        user, tok = rw("att")
        a, b, awaited = (f"{uuid.uuid4()}.jpg" for _ in range(3))
        upload(a, b"aaa", token=tok)
        upload(b, b"bbbb", token=tok)
        rid, rid2, ft = uid("ar"), uid("ar"), uid("ft")
        push(tok, [rec(rid, ft, {"photo": a, "nested": {"list": [a, "yes", "3.5", awaited]}}),
                   rec(rid2, ft, {"photo": a})])
        listed = self.listed()
        self.assertEqual(listed[a]["references"], 2)
        self.assertEqual(listed[a]["referenced_by"], sorted([rid, rid2]))
        self.assertEqual(listed[b]["references"], 0)
        self.assertEqual(listed[b]["referenced_by"], [])
        self.assertEqual((listed[b]["size"], listed[b]["content_type"], listed[b]["uploaded_by"]), (4, "image/jpeg", user))
        self.assertEqual(set(listed[b]), {"attachment_id", "size", "content_type", "sha256", "uploaded_by",
                                          "uploaded_at", "referenced_by", "references"})
        unref = self.listed(unreferenced="true")
        self.assertIn(b, unref)
        self.assertNotIn(a, unref)
        self.assertEqual(set(self.listed(unreferenced="false")), set(listed))

        d = get("/admin/records/" + rid).json
        self.assertEqual(d["attachments"], sorted([{"attachment_id": a, "present": True},
                                                   {"attachment_id": awaited, "present": False}],
                                                  key=lambda x: x["attachment_id"]))
        # The record now names b instead; the other one is deleted: a is unreferenced.
        push(tok, [rec(rid, ft, {"photo": b}), rec(rid2, ft, {"photo": a}, deleted=True)])
        unref = self.listed(unreferenced="true")
        self.assertIn(a, unref)
        self.assertNotIn(b, unref)
        self.assertEqual(self.listed()[b]["referenced_by"], [rid])
        # synkronus-admin reads the same table.
        script = ". %s; stack_admin attachments list" % os.path.join(h.REPO, "packaging/devstack.sh")
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
        rows = {line.split("\t")[0]: line.split("\t") for line in out.stdout.splitlines()}
        self.assertEqual(rows[a][4:], ["unreferenced"])
        self.assertEqual(rows[b][4:], [])

    def test_newest_first_and_paged(self):
        _, tok = rw("att")
        ids = [f"{uuid.uuid4()}.png" for _ in range(3)]
        for i in ids:
            upload(i, i.encode(), token=tok)
        first = get("/admin/attachments", limit=2).json
        self.assertEqual([x["attachment_id"] for x in first["attachments"]], ids[::-1][:2])
        nxt = get("/admin/attachments", limit=2, cursor=first["next_cursor"]).json
        self.assertEqual(nxt["attachments"][0]["attachment_id"], ids[0])

    def test_reindex_rebuilds_what_pushes_keep(self):
        _, tok = rw("att")
        a = f"{uuid.uuid4()}.jpg"
        upload(a, b"reindex", token=tok)
        rid = uid("ri")
        push(tok, [rec(rid, uid("ft"), {"p": a})])
        before = h.sql("SELECT attachment_id, record_id FROM attachment_refs ORDER BY attachment_id, record_id")
        h.sql("DELETE FROM attachment_refs WHERE record_id = '%s'" % rid)
        script = ". %s; stack_admin attachments reindex" % os.path.join(h.REPO, "packaging/devstack.sh")
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        after = h.sql("SELECT attachment_id, record_id FROM attachment_refs ORDER BY attachment_id, record_id")
        self.assertIn([a, rid], after)
        self.assertTrue(set(map(tuple, before)) <= set(map(tuple, after)))


if __name__ == "__main__":
    unittest.main()
