"""The current mobile app's sync (CONTRACT §7), from the app's point of view: what its
code really sends (no x-api-version, 16-character transmission ids, obs_<ms>_<n> ids,
formulus-<device> client ids, `since` on every pull, no limit, current_version stored
after the last page, `message` read from errors), and a mixed fleet of it and an
older record-shape client on one store."""
import hashlib
import json
import random
import string
import time
import unittest
import uuid

import harness as h

OBS_KEYS = {"observation_id", "form_type", "form_version", "data", "hash", "deleted", "version", "synced_at",
            "created_at", "updated_at", "geolocation", "last_modified_by", "origin_client_id"}
RECORD_KEYS = {"id", "schemaType", "schemaVersion", "data", "hash", "deleted", "change_id", "last_modified",
               "last_modified_by", "origin_client_id"}


def counter():
    return int(h.sql("SELECT last_change_id FROM sync_counter WHERE id = 1")[0][0])


def form(prefix="F"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def record_hash(data, schema_type, schema_version):
    doc = {"data": data, "schemaType": schema_type, "schemaVersion": schema_version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


class App:
    """The app's sync loop as its code does it."""

    def __init__(self, token, device=None):
        self.token = token
        self.client_id = "formulus-" + (device or uuid.uuid4().hex[:8])
        self.cursor = 0
        self.n = 0

    def new_id(self):
        self.n += 1
        return f"obs_{int(time.time() * 1000)}_{self.n}"

    @staticmethod
    def transmission_id():
        return "".join(random.choices(string.ascii_letters + string.digits, k=16))

    def observation(self, form_type, data=None, **fields):
        o = {"observation_id": self.new_id(), "form_type": form_type, "form_version": "1.0",
             "data": {"n": 1} if data is None else data, "deleted": False,
             "created_at": "2026-11-28T21:09:34.123Z", "updated_at": "2026-11-28T21:10:01.456Z",
             "geolocation": None}
        o.update(fields)
        return o

    def push_raw(self, raw):
        # No x-api-version header: the app never sends one.
        return h.request("POST", "/sync/push", raw=raw, token=self.token,
                         headers={"Content-Type": "application/json"})

    def push_body(self, observations, tid=None):
        return json.dumps({"transmission_id": tid or self.transmission_id(), "client_id": self.client_id,
                           "records": observations}).encode()

    def push(self, observations, tid=None):
        return self.push_raw(self.push_body(observations, tid))

    def pull_page(self, version):
        return h.request("POST", "/sync/pull", {"client_id": self.client_id, "since": {"version": version}},
                         token=self.token)

    def sync(self, between_pages=None):
        """Pulls to the end with `since`, as the app does, and stores current_version."""
        seen, version = [], self.cursor
        while True:
            r = self.pull_page(version)
            assert r.status == 200, r
            page = r.json
            seen += page["records"]
            if not page["has_more"]:
                self.cursor = page["current_version"]
                return seen
            version = page["change_cutoff"]
            if between_pages:
                between_pages()


class ObservationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def app(self):
        a = App(self.token)
        a.cursor = counter()  # an app that has synced before
        return a

    def test_push_and_pull_as_the_app(self):
        app, f = self.app(), form()
        geo = {"latitude": 47.376887, "longitude": 8.541694, "accuracy": 12.5, "altitude": 408.25,
               "altitude_accuracy": None}
        obs = [app.observation(f, {"q": "yes", "nested": {"list": [1, 2.5, "x"]}}, geolocation=geo),
               app.observation(f, {"q": "no"}), app.observation(f, {"q": "maybe"}, deleted=True)]
        r = app.push(obs)
        self.assertEqual(r.status, 200, r)
        body = r.json
        self.assertEqual(set(body), {"server_time", "current_version", "success_count", "failed_records",
                                     "warnings"})
        self.assertEqual((body["success_count"], body["failed_records"], body["warnings"]), (3, [], []))
        self.assertEqual(body["current_version"], counter())
        pulled = app.sync()
        self.assertEqual(app.cursor, body["current_version"])
        mine = {o["observation_id"]: o for o in pulled if o["form_type"] == f}
        self.assertEqual(list(mine), [o["observation_id"] for o in obs])
        for sent in obs:
            got = mine[sent["observation_id"]]
            self.assertEqual(set(got), OBS_KEYS, got)
            for k in ("form_type", "form_version", "data", "deleted", "created_at", "updated_at", "geolocation"):
                self.assertEqual(got[k], sent[k], k)
            self.assertEqual(got["hash"], record_hash(sent["data"], f, "1.0"))
            self.assertEqual(got["origin_client_id"], app.client_id)
            self.assertRegex(got["synced_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual([o["version"] for o in mine.values()], list(range(app.cursor - 2, app.cursor + 1)))
        # Nothing new: the next sync is empty and keeps the cursor.
        self.assertEqual(app.sync(), [])
        self.assertEqual(app.cursor, body["current_version"])

    def test_since_version_zero_and_the_pull_response(self):
        app = App(self.token)
        app.push([app.observation(form())])
        r = app.pull_page(0)
        self.assertEqual(r.status, 200, r)
        page = r.json
        self.assertEqual(set(page) - {"next_page_token"}, {"server_time", "current_version", "records",
                                                           "change_cutoff", "has_more", "sync_format_version"})
        self.assertEqual(page["sync_format_version"], "1.0")
        rows = int(h.sql("SELECT COUNT(*) FROM sync_records")[0][0])
        self.assertEqual(len(page["records"]), min(50, rows))  # no limit sent: 50
        self.assertEqual(page["current_version"], counter())
        self.assertEqual("next_page_token" in page, page["has_more"])
        for o in page["records"]:
            self.assertEqual(set(o), OBS_KEYS)
        if not page["has_more"]:
            self.assertEqual(page["current_version"], page["change_cutoff"])

    def test_current_version_after_the_last_page_misses_nothing(self):
        app, other, f = self.app(), self.app(), form()
        for _ in range(3):
            self.assertEqual(other.push([other.observation(f) for _ in range(40)]).status, 200)
        meanwhile = []

        def push_between_pages():
            o = other.observation(f)
            meanwhile.append(o["observation_id"])
            self.assertEqual(other.push([o]).status, 200)

        first = [o["observation_id"] for o in app.sync(between_pages=push_between_pages)]
        self.assertGreaterEqual(len(meanwhile), 2)  # 120 records at 50 a page
        second = [o["observation_id"] for o in app.sync()]
        got = first + second
        want = [x[0] for x in h.sql(f"SELECT id FROM sync_records WHERE schema_type = '{f}' ORDER BY change_id")]
        self.assertEqual([i for i in got if i in set(want)], want)
        self.assertEqual(len(got), len(set(got)), "an observation came twice")
        self.assertEqual(app.cursor, counter())

    def test_mixed_fleet(self):
        app, f = self.app(), form()
        start = app.cursor
        old_token = h.token_for("read-write")
        # The older client: UUID transmission ids, x-api-version, record shape, after_change_id.
        old_headers = {"x-api-version": "1.0.0"}
        record = {"id": "rec-" + uuid.uuid4().hex, "schemaType": f, "schemaVersion": "3",
                  "data": {"name": "Zoë", "count": 3, "ratio": 0.1, "tags": ["a", "b"], "deep": {"x": None}}}
        r = h.request("POST", "/sync/push", {"transmission_id": str(uuid.uuid4()), "client_id": "cli-7",
                                             "records": [record]}, token=old_token, headers=old_headers)
        self.assertEqual(r.status, 200, r)
        geo = {"latitude": -33.865143, "longitude": 151.2099, "accuracy": 4.0, "altitude": -0.5,
               "altitude_accuracy": 1e-3}
        obs = app.observation(f, {"answer": 42, "photo": "a1b2.jpg", "when": {"d": "2026-11-28"}}, geolocation=geo,
                              created_at="2026-11-28T08:00:00+01:00", updated_at="2026-11-28T07:30:00.000001Z")
        r = app.push([obs])
        self.assertEqual(r.status, 200, r)

        # The old client sees the observation as a record, with the same data and hash.
        r = h.request("POST", "/sync/pull?limit=500", {"client_id": "cli-7", "after_change_id": start,
                                                      "schema_types": [f]}, token=old_token, headers=old_headers)
        self.assertEqual(r.status, 200, r)
        recs = {x["id"]: x for x in r.json["records"]}
        self.assertEqual(set(recs), {record["id"], obs["observation_id"]})
        got = recs[obs["observation_id"]]
        self.assertEqual(set(got), RECORD_KEYS)
        self.assertEqual((got["schemaType"], got["schemaVersion"], got["data"]), (f, "1.0", obs["data"]))
        self.assertEqual(got["hash"], record_hash(obs["data"], f, "1.0"))
        self.assertEqual(got["origin_client_id"], app.client_id)

        # The app sees the record as an observation; its times are its synced_at.
        pulled = {o["observation_id"]: o for o in app.sync() if o["form_type"] == f}
        self.assertEqual(set(pulled), {record["id"], obs["observation_id"]})
        mine = pulled[obs["observation_id"]]
        self.assertEqual(mine["geolocation"], geo)
        self.assertEqual((mine["created_at"], mine["updated_at"]), (obs["created_at"], obs["updated_at"]))
        self.assertEqual(mine["data"], obs["data"])
        theirs = pulled[record["id"]]
        self.assertEqual((theirs["form_version"], theirs["data"], theirs["deleted"]), ("3", record["data"], False))
        self.assertEqual(theirs["created_at"], theirs["synced_at"])
        self.assertEqual(theirs["updated_at"], theirs["synced_at"])
        self.assertIsNone(theirs["geolocation"])
        self.assertEqual(theirs["hash"], record_hash(record["data"], f, "3"))
        self.assertEqual(theirs["origin_client_id"], "cli-7")
        # Stored as given, as NULL where the record had nothing.
        self.assertEqual(h.sql(f"SELECT created_at IS NULL, geolocation IS NULL FROM sync_records "
                               f"WHERE id = '{record['id']}'"), [["1", "1"]])

        # The old client edits the observation, knowing nothing of its extra fields:
        # the data changes, the location and times stay.
        edit = {"id": obs["observation_id"], "schemaType": f, "schemaVersion": "1.0",
                "data": dict(obs["data"], answer=43), "hash": got["hash"]}
        r = h.request("POST", "/sync/push", {"transmission_id": str(uuid.uuid4()), "client_id": "cli-7",
                                             "records": [edit]}, token=old_token, headers=old_headers)
        self.assertEqual((r.status, r.json["warnings"]), (200, []), r)
        after = {o["observation_id"]: o for o in app.sync()}
        self.assertEqual(after[obs["observation_id"]]["data"]["answer"], 43)
        self.assertEqual(after[obs["observation_id"]]["geolocation"], geo)
        self.assertEqual(after[obs["observation_id"]]["created_at"], obs["created_at"])

        # A first pull of either client (no cursor at all) carries both shapes' fields.
        r = h.request("POST", "/sync/pull?limit=500", {"client_id": "new", "schema_types": [f]}, token=old_token)
        both = {x["id"]: x for x in r.json["records"]}
        self.assertEqual(set(both[obs["observation_id"]]), RECORD_KEYS | OBS_KEYS)
        self.assertEqual(both[obs["observation_id"]]["geolocation"], geo)
        self.assertEqual(both[record["id"]]["observation_id"], record["id"])

    def test_geolocation_numbers_round_trip(self):
        app = self.app()
        raw_geo = b'{"latitude": 0.30000000000000004, "longitude": -1.5e-7, "accuracy": 10, ' \
                  b'"altitude": 1E2, "altitude_accuracy": 0.0}'
        obs = app.observation(form())
        raw = app.push_body([obs]).replace(b'"geolocation": null', b'"geolocation": ' + raw_geo)
        self.assertEqual(app.push_raw(raw).status, 200)
        got = [o for o in app.sync() if o["observation_id"] == obs["observation_id"]][0]
        # Every number reads back as the same double; integral ones may lose a ".0"
        # spelling (JSON has one number type), no other digit changes.
        self.assertEqual(got["geolocation"], json.loads(raw_geo))
        for k, v in json.loads(raw_geo).items():
            if isinstance(v, float) and not v.is_integer():
                self.assertEqual(repr(got["geolocation"][k]), repr(v), k)

    def test_malformed_observations_fail_alone(self):
        app, f = self.app(), form()
        good = [app.observation(f), app.observation(f)]
        bad = {
            "created_at": (app.observation(f, created_at="28/11/2026"), "created_at"),
            "created_at not a date": (app.observation(f, created_at="2026-02-30T10:00:00Z"), "created_at"),
            "updated_at a number": (app.observation(f, updated_at=1764000000), "updated_at"),
            "latitude out of range": (app.observation(f, geolocation={"latitude": 90.5, "longitude": 0,
                                                                       "accuracy": 1}), "geolocation.latitude"),
            "longitude a string": (app.observation(f, geolocation={"latitude": 0, "longitude": "8.5",
                                                                    "accuracy": 1}), "geolocation.longitude"),
            "accuracy negative": (app.observation(f, geolocation={"latitude": 0, "longitude": 0,
                                                                   "accuracy": -1}), "geolocation.accuracy"),
            "altitude a string": (app.observation(f, geolocation={"latitude": 0, "longitude": 0, "accuracy": 1,
                                                                   "altitude": "high"}), "geolocation.altitude"),
            "geolocation an array": (app.observation(f, geolocation=[47.1, 8.5]), "geolocation"),
            "no form_type": (dict(app.observation(f), form_type=None), "form_type"),
            "data a string": (app.observation(f, data="{}"), "data"),
        }
        items = [good[0]] + [o for o, _ in bad.values()] + [good[1], {"form_type": f, "data": {}}]
        r = app.push(items)
        self.assertEqual(r.status, 200, r)
        body = r.json
        self.assertEqual(body["success_count"], 2)
        failed = body["failed_records"]
        self.assertEqual([x["index"] for x in failed], list(range(1, len(bad) + 1)) + [len(items) - 1])
        for (name, (o, field)), x in zip(bad.items(), failed):
            with self.subTest(name):
                self.assertEqual(x["id"], o["observation_id"])
                self.assertEqual(x["code"], "VALIDATION")
                self.assertIn(field, x["error"])
        self.assertEqual(failed[-1]["id"], "")
        self.assertIn("observation_id", failed[-1]["error"])
        stored = [x[0] for x in h.sql(f"SELECT id FROM sync_records WHERE schema_type = '{f}' ORDER BY change_id")]
        self.assertEqual(stored, [good[0]["observation_id"], good[1]["observation_id"]])

    def test_retries_replay_byte_for_byte(self):
        app, f = self.app(), form()
        tid = App.transmission_id()
        raw = app.push_body([app.observation(f), app.observation(f, created_at="bad")], tid)
        first = app.push_raw(raw)
        self.assertEqual(first.status, 200, first)
        version = counter()
        app.push([app.observation(f)])  # the world moves on
        time.sleep(1.1)
        for _ in range(5):
            again = app.push_raw(raw)
            self.assertEqual(again.status, 200)
            self.assertEqual(again.body, first.body)  # current_version included
            self.assertEqual(again.header("x-idempotent-replay"), "true")
        self.assertEqual(json.loads(first.body)["current_version"], version)
        # The same id with another body is refused, with a message the app can show.
        other = app.push_raw(app.push_body([app.observation(f)], tid))
        p = h.assert_problem(self, other, 409, "conflict")
        self.assertIn(tid, p["message"])
        # Case matters: the id in another case is another push.
        swapped = app.push_raw(raw.replace(tid.encode(), tid.swapcase().encode()))
        self.assertEqual(swapped.status, 200)
        self.assertIsNone(swapped.header("x-idempotent-replay"))

    def test_no_op_compares_everything_the_client_owns(self):
        app, f = self.app(), form()
        geo = {"latitude": 1.5, "longitude": 2.25, "accuracy": 3, "altitude": None, "altitude_accuracy": None}
        o = app.observation(f, geolocation=geo)
        self.assertEqual(app.push([o]).status, 200)
        base = counter()
        # The same again, with the geolocation's keys in another order and 3 spelled 3.0.
        same = dict(o, geolocation={"accuracy": 3.0, "altitude_accuracy": None, "altitude": None,
                                    "longitude": 2.25, "latitude": 1.5})
        r = app.push([same])
        self.assertEqual((r.json["success_count"], r.json["current_version"]), (1, base))
        self.assertEqual(counter(), base)
        for change in ({"updated_at": "2026-11-29T00:00:00Z"}, {"created_at": "2026-11-28T21:09:34.123+00:00"},
                       {"geolocation": dict(geo, accuracy=3.5)}, {"geolocation": None}):
            with self.subTest(change):
                before = counter()
                r = app.push([dict(o, **change)])
                self.assertEqual(r.json["current_version"], before + 1, r)
                o = dict(o, **change)
        pulled = [x for x in app.sync() if x["observation_id"] == o["observation_id"]]
        self.assertEqual(pulled[-1]["geolocation"], None)
        self.assertEqual(pulled[-1]["created_at"], "2026-11-28T21:09:34.123+00:00")

    def test_page_tokens_keep_the_shape(self):
        app, f = self.app(), form()
        app.push([app.observation(f) for _ in range(5)])
        for body, keys in (({"client_id": app.client_id, "since": {"version": app.cursor}}, OBS_KEYS),
                           ({"client_id": "cli", "after_change_id": app.cursor}, RECORD_KEYS),
                           ({"client_id": "cli"}, OBS_KEYS | RECORD_KEYS)):
            with self.subTest(keys=len(keys)):
                q = f"?limit=2&schemaType={f}"
                page = h.request("POST", "/sync/pull" + q, body, token=self.token).json
                self.assertTrue(all(set(rec) == keys for rec in page["records"]))
                n = len(page["records"])
                while page["has_more"]:
                    page = h.request("POST", "/sync/pull" + q + "&page_token=" + page["next_page_token"],
                                     {"client_id": "x"}, token=self.token).json
                    for rec in page["records"]:
                        self.assertEqual(set(rec), keys)
                    n += len(page["records"])
                self.assertEqual(n, 5)

    def test_errors_carry_message(self):
        app = self.app()
        for path, raw, field in (
                ("/sync/push", json.dumps({"transmission_id": "not/an id", "client_id": app.client_id,
                                           "records": []}).encode(), "transmission_id"),
                ("/sync/pull", json.dumps({"client_id": app.client_id, "since": {"version": 3},
                                           "after_change_id": 4}).encode(), "since"),
                ("/sync/pull", json.dumps({"client_id": app.client_id, "since": {"version": "3"}}).encode(),
                 "since.version")):
            with self.subTest(field):
                r = h.request("POST", path, raw=raw, token=self.token, headers={"Content-Type": "application/json"})
                p = h.assert_problem(self, r, 400, "validation")
                self.assertEqual(p["message"], p["detail"])
                self.assertEqual([e["field"] for e in p["errors"]], [field])


if __name__ == "__main__":
    unittest.main()
