"""The cursor-never-skips check, shared by the single-server test
(test_sync_concurrency.py) and the cluster tests (tests/cluster): pushers write in
parallel while pullers loop from their own cursors; afterwards every puller's view
must equal the database exactly and every acknowledged push must be stored.

A design that lets a change_id become visible before a lower one commits (a plain
AUTO_INCREMENT, or ids taken from the counter outside the transaction that writes
the records) fails this: a puller's cutoff moves past the lower id while it is still
uncommitted, and that version is never pulled. Both generations of the API take
part (CONTRACT §7): half the pushers send observations with 16-character
transmission ids, and one puller is the current app: `since` on every pull, no
limit, and after the last page it stores `current_version` as its cursor.
"""
import http.client
import json
import random
import threading
import time
import uuid
import zlib

import harness as h

RETRYABLE = (502, 503, 504)


class Client:
    """One keep-alive HTTPS connection per thread, reopened when the server closes it.
    Every request sent through it is safe to repeat (pulls, and pushes under the same
    transmission_id), so a dropped connection is retried, and 502/503/504 after a pause.
    `connects` are functions opening a connection to each endpoint the client may use;
    a connection that fails moves it to the next one, as a phone retries another host."""

    def __init__(self, token, connects=None, attempts=20):
        self.token = token
        self.connects = connects or [lambda: h.connection(timeout=60)]
        self.at = 0
        self.attempts = attempts
        self.conn = None
        self.retries = 0

    def post(self, path, raw):
        for attempt in range(self.attempts):
            if self.conn is None:
                self.conn = self.connects[self.at % len(self.connects)]()
            try:
                r = h.request("POST", path, raw=raw, token=self.token, conn=self.conn,
                              headers={"Content-Type": "application/json"})
            except (OSError, ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                self.at += 1
                self.retries += 1
                time.sleep(min(0.5, 0.05 * (attempt + 1)))
                continue
            if r.header("connection") == "close":
                self.conn.close()
                self.conn = None
            if r.status in RETRYABLE:
                self.retries += 1
                time.sleep(min(0.5, 0.05 * (attempt + 1)))
                continue
            return r
        raise AssertionError(f"{path}: no answer after {self.attempts} attempts")

    def close(self):
        if self.conn is not None:
            self.conn.close()


class Puller:
    def __init__(self, name, token, body_types=None, query_type=None, client=None, app=False):
        self.name = name
        self.app = app  # the current mobile app's way: since, no limit, current_version
        self.client = client or Client(token)
        self.body_types = body_types
        self.query_type = query_type
        self.filter = None if not (body_types or query_type) else set(body_types or []) | (
            {query_type} if query_type else set())
        self.cursor = 0
        self.view = {}  # id -> (hash, change_id)
        self.errors = []
        self.pulls = 0
        self.records_seen = 0

    def fail(self, msg):
        if len(self.errors) < 20:
            self.errors.append(f"{self.name}: {msg}")

    def round(self, rnd, limit=None, max_pages=40):
        """Pulls from the stored cursor, following next_page_token, to the end of the
        log or for at most max_pages pages, then stores the last change_cutoff (as a
        client that stops mid-way does). Returns the number of records."""
        if self.app:
            # The app never sends a limit and never stops mid-way: it stores only the
            # current_version of the last page.
            limit, query, max_pages = 50, "?", 10 ** 6
            body = {"client_id": self.name, "since": {"version": self.cursor}}
        else:
            limit = limit or rnd.choice((3, 20, 100, 500))
            query = f"?limit={limit}" + (f"&schemaType={self.query_type}" if self.query_type else "")
            body = {"client_id": self.name, "after_change_id": self.cursor}
        if self.body_types:
            body["schema_types"] = self.body_types
        after, token, got = self.cursor, None, 0
        for _ in range(max_pages):
            q = query + (f"&page_token={token}" if token else "")
            q = q if q != "?" else ""
            r = self.client.post("/sync/pull" + q, json.dumps(body).encode())
            self.pulls += 1
            if r.status != 200:
                self.fail(f"pull answered {r.status}: {r.body[:200]!r}")
                return got
            page = r.json
            recs = page["records"]
            if self.app:  # observations: the same fields under §7's names
                recs = [{"id": x["observation_id"], "schemaType": x["form_type"], "hash": x["hash"],
                         "change_id": x["version"]} for x in recs]
            if page["current_version"] < page["change_cutoff"]:
                self.fail(f"current_version {page['current_version']} below change_cutoff {page['change_cutoff']}")
            cids = [x["change_id"] for x in recs]
            if any(c <= after for c in cids):
                self.fail(f"records at or below the cursor {after}: {cids[:10]}")
            if any(x >= y for x, y in zip(cids, cids[1:])):
                self.fail(f"change_id not strictly increasing in a page: {cids[:20]}")
            if len(recs) > limit:
                self.fail(f"{len(recs)} records for limit {limit}")
            cutoff = page["change_cutoff"]
            if cutoff < after or (cids and cutoff < cids[-1]):
                self.fail(f"change_cutoff {cutoff} behind cursor {after} / last record {cids[-1:]}")
            for x in recs:
                if self.filter is not None and x["schemaType"] not in self.filter:
                    self.fail(f"record of type {x['schemaType']} outside the filter")
                old = self.view.get(x["id"])
                if old is not None and old[1] >= x["change_id"]:
                    self.fail(f"{x['id']} seen at change_id {x['change_id']} after {old[1]}")
                self.view[x["id"]] = (x["hash"], x["change_id"])
            got += len(recs)
            self.records_seen += len(recs)
            if page["has_more"]:
                if not recs or cutoff != cids[-1] or "next_page_token" not in page:
                    self.fail(f"has_more page with cutoff {cutoff}, last {cids[-1:]}, keys {sorted(page)}")
                    return got
                token, after = page["next_page_token"], cutoff
                self.cursor = cutoff
                continue
            if "next_page_token" in page:
                self.fail("next_page_token without has_more")
            if page["current_version"] != cutoff:
                self.fail(f"last page: current_version {page['current_version']} != change_cutoff {cutoff}")
            self.cursor = page["current_version"] if self.app else cutoff
            return got
        return got

    def run(self, stop, seed):
        rnd = random.Random(seed)
        try:
            while not stop.is_set():
                self.round(rnd)
                time.sleep(rnd.random() * 0.02)
        except Exception as e:  # reported by the test
            self.fail(f"crashed: {e!r}")

    def catch_up(self, head):
        for _ in range(1000):
            n = self.round(None, limit=500, max_pages=1000)
            if n == 0 and self.cursor >= head:
                return
        self.fail(f"did not catch up to {head}; cursor {self.cursor}")


class Pusher:
    def __init__(self, k, token, types, shared_ids, lock, client=None):
        self.k = k
        self.client = client or Client(token)
        self.acknowledged = []  # (transmission_id, ids) of every push answered 200
        self.types = types
        self.shared_ids = shared_ids
        self.lock = lock
        self.errors = []
        self.pushes = 0
        self.records = 0
        self.seq = 0
        self.last_version = 0

    def type_of(self, rid):
        # A record keeps its type, so a filtered puller's view can be compared by type.
        return self.types[zlib.crc32(rid.encode()) % len(self.types)]

    def run(self, stop, seed):
        rnd = random.Random(seed)
        try:
            while not stop.is_set():
                n = rnd.randint(1, 30)
                with self.lock:
                    existing = list(rnd.sample(self.shared_ids, min(len(self.shared_ids), n // 2)))
                fresh = []
                records = []
                for i in range(n):
                    self.seq += 1
                    if existing and rnd.random() < 0.5:
                        rid = existing.pop()
                    else:
                        rid = f"cc-{self.k}-{self.seq}-{uuid.uuid4().hex[:6]}"
                        fresh.append(rid)
                    data = {"by": self.k, "seq": self.seq, "r": rnd.randint(0, 10 ** 9)}
                    if self.k % 2:  # the current app's observations
                        records.append({"observation_id": rid, "form_type": self.type_of(rid), "form_version": "1",
                                        "data": data, "deleted": rnd.random() < 0.1,
                                        "created_at": "2026-11-28T21:09:34.123Z",
                                        "updated_at": "2026-11-28T21:09:35.000Z",
                                        "geolocation": {"latitude": rnd.uniform(-90, 90),
                                                        "longitude": rnd.uniform(-180, 180), "accuracy": 5}})
                    else:
                        records.append({"id": rid, "schemaType": self.type_of(rid), "schemaVersion": "1",
                                        "data": data, "deleted": rnd.random() < 0.1})
                tid = uuid.uuid4().hex[:16] if self.k % 2 else str(uuid.uuid4())
                body = {"transmission_id": tid, "client_id": f"pusher-{self.k}", "records": records}
                r = self.client.post("/sync/push", json.dumps(body).encode())
                self.pushes += 1
                if r.status != 200:
                    self.errors.append(f"pusher {self.k}: push answered {r.status}: {r.body[:200]!r}")
                    return
                if r.json["success_count"] != n or r.json["failed_records"]:
                    self.errors.append(f"pusher {self.k}: {r.body[:300]!r}")
                    return
                if r.json["current_version"] < self.last_version:
                    self.errors.append(f"pusher {self.k}: current_version went back to {r.json['current_version']}")
                    return
                self.last_version = r.json["current_version"]
                self.records += n
                # Deleting a record the server never had stores nothing; every other
                # record of an acknowledged push must be stored (live or as a tombstone).
                # An observation's id is its observation_id (CONTRACT §7).
                live = [x.get("id", x.get("observation_id")) for x in records if not x["deleted"]]
                self.acknowledged.append((body["transmission_id"], live))
                with self.lock:
                    self.shared_ids.extend(fresh)
        except Exception as e:
            self.errors.append(f"pusher {self.k} crashed: {e!r}")


def db_view(sql, types=None):
    where = ""
    if types:
        where = " WHERE schema_type IN (" + ",".join(f"'{t}'" for t in types) + ")"
    return {row[0]: (row[1], int(row[2])) for row in sql("SELECT id, hash, change_id FROM sync_records" + where)}


def run_and_check(tc, duration, clients=None, sql=h.sql, during=None, pushers=6, min_pushes=100):
    """Concurrent pushers and pullers for `duration` seconds; then every puller must
    hold exactly the database's records (id, hash, change_id), and every push that was
    answered 200 must be in the database. `clients(i)` makes the Client of thread i
    (the endpoint mix); `during(stop)` runs alongside (a fault injector) and must
    return before the pushers stop. Returns the statistics line."""
    clients = clients or (lambda i, token: Client(token))
    types = [f"cc{k}-{uuid.uuid4().hex[:6]}" for k in range(3)]
    writer_tokens = [h.token_for("read-write") for _ in range(2)]
    reader = h.token_for("read-only")
    lock = threading.Lock()
    shared = []
    pushers = [Pusher(k, writer_tokens[k % 2], types, shared, lock, client=clients(k, writer_tokens[k % 2]))
               for k in range(pushers)]
    n = len(pushers)
    pullers = [
        Puller("all-1", reader, client=clients(n, reader)),
        Puller("all-2", writer_tokens[0], client=clients(n + 1, writer_tokens[0])),
        Puller("one-type", reader, query_type=types[0], client=clients(n + 2, reader)),
        Puller("two-types", reader, body_types=[types[1]], query_type=types[2], client=clients(n + 3, reader)),
        Puller("app", writer_tokens[1], client=clients(n + 4, writer_tokens[1]), app=True),
    ]
    stop_push, stop_pull = threading.Event(), threading.Event()
    threads = [threading.Thread(target=p.run, args=(stop_push, 100 + i)) for i, p in enumerate(pushers)]
    threads += [threading.Thread(target=p.run, args=(stop_pull, 200 + i)) for i, p in enumerate(pullers)]
    fault = threading.Thread(target=during, args=(stop_push,)) if during else None
    t0 = time.time()
    for t in threads:
        t.start()
    if fault:
        fault.start()
    deadline = t0 + duration
    while time.time() < deadline and all(not p.errors for p in pushers + pullers):
        time.sleep(0.2)
    if fault:
        fault.join(600)
    stop_push.set()
    for t in threads[:n]:
        t.join(120)
    t_pushed = time.time() - t0
    stop_pull.set()
    for t in threads[n:]:
        t.join(120)
    head = int(sql("SELECT last_change_id FROM sync_counter")[0][0])
    lag = {p.name: head - p.cursor for p in pullers}
    for p in pullers:
        p.catch_up(head)
    for c in [p.client for p in pushers + pullers]:
        c.close()

    errors = [e for p in pushers + pullers for e in p.errors]
    pushes = sum(p.pushes for p in pushers)
    written = sum(p.records for p in pushers)
    retries = sum(p.client.retries for p in pushers + pullers)
    stats = (f"{time.time() - t0:.1f}s ({t_pushed:.1f}s pushing; cursor lag then {lag}), {pushes} pushes of "
             f"{written} records, {retries} retried requests, counter at {head}; pulls: "
             + ", ".join(f"{p.name} {p.pulls} ({p.records_seen} records)" for p in pullers))
    print("\n    " + stats)
    tc.assertEqual(errors, [], stats + "\n" + "\n".join(errors))
    tc.assertGreater(pushes, min_pushes, "too few pushes ran to test anything")

    # No acknowledged push lost: its transmission row (committed with its records) and
    # every record it carried are in the database.
    acked = [a for p in pushers for a in p.acknowledged]
    stored_tx = {r[0] for r in sql("SELECT transmission_id FROM sync_transmissions WHERE response <> ''")}
    all_ids = set(db_view(sql))
    lost_tx = [tid for tid, _ in acked if tid not in stored_tx]
    lost_records = [i for _, ids in acked for i in ids if i not in all_ids]
    tc.assertEqual((lost_tx[:3], lost_records[:3]), ([], []),
                   f"of {len(acked)} acknowledged pushes, {len(lost_tx)} have no stored response and "
                   f"{len(lost_records)} of their records are missing")

    problems = []
    for p in pullers:
        want = db_view(sql, sorted(p.filter) if p.filter else None)
        if p.view == want:
            continue
        missing = sorted(set(want) - set(p.view))
        extra = sorted(set(p.view) - set(want))
        stale = sorted(i for i in want if i in p.view and p.view[i] != want[i])
        newer_in_db = [i for i in stale if want[i][1] > p.view[i][1]]
        problems.append(
            f"{p.name}: {len(missing)} missing (e.g. {[(i, want[i][1]) for i in missing[:4]]}), "
            f"{len(newer_in_db)} newer in the database than in the view "
            f"(e.g. {[(i, p.view[i][1], want[i][1]) for i in newer_in_db[:4]]}), "
            f"{len(stale) - len(newer_in_db)} other differences, {len(extra)} unknown to the "
            f"database; view {len(p.view)} records, database {len(want)}")
    tc.assertEqual(problems, [], "pullers' views differ from the database:\n" + "\n".join(problems))
    return stats
