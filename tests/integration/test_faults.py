"""Faults injected while requests run (issue 11, section 2), each followed by a check
that what is stored matches what clients were told: MariaDB killed with SIGKILL
during pushes (the records, their history, references and counts), provisioning calls and bundle switches, a worker killed in the middle
of a bundle push and of a large sync push, the bundle store's filesystem full, a database lock held longer than the
request timeout, and the database naming bundle files the store no longer has.

Every class leaves the stack as it found it (database up, workers and nginx with
their usual settings, the bundle directory on its own filesystem)."""
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness as h
import test_app_bundle as tb
import test_record_counts as trc
import test_sync as ts

BUNDLES = tb.BUNDLES
TMP = tb.TMP
VERSIONS = tb.VERSIONS
# The admin tool of the build under test (build/asan/ under make test-sanitize, which
# may run on a clone where build/ was never made).
ADMIN = os.path.join(h.BIN, "synkronus-admin")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by its parent) is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def pidfile(name):
    return int(open(os.path.join(h.STATE, name)).read().strip())


def sigkill_and_wait(pid):
    os.kill(pid, signal.SIGKILL)
    assert h.wait_until(lambda: not alive(pid), timeout=20), f"{pid} survived SIGKILL"


def until_answered(send, accepted=(200,), seconds=90):
    """Sends again (every 0.2 s) while the answer is a dropped connection or nginx's
    502/503/504, as a client repeats a request cut by the database's death. Returns
    (reply, attempts): the first reply that is accepted or not one of those, else the
    last one (None: no answer at all) after `seconds`."""
    deadline, attempts = time.time() + seconds, 0
    while True:
        attempts += 1
        try:
            r = send()
        except Exception:
            r = None
        if r is not None and (r.status in accepted or r.status not in (502, 503, 504)):
            return r, attempts
        if time.time() > deadline:
            return r, attempts
        time.sleep(0.2)


def kill_the_database_under(testcase, threads, answered, before=4, after=4, stop=None):
    """Starts the client `threads`, SIGKILLs mariadbd once `answered()` reaches
    `before` (the load runs, however slow the build), starts it again, waits for
    `after` more answers (requests repeated across the outage among them), then sets
    `stop` and joins the threads."""
    for th in threads:
        th.start()
    try:
        h.wait_until(lambda: answered() >= before, timeout=30, interval=0.05)
        sigkill_and_wait(pidfile("mariadb.pid"))
        time.sleep(1.0)  # the outage itself
    finally:
        h.stack("stack_start_db")
    testcase.assertTrue(h.wait_until(lambda: h.request("GET", "/health").status == 200, timeout=30))
    done = answered()
    h.wait_until(lambda: answered() >= done + after, timeout=30, interval=0.05)
    if stop is not None:
        stop.set()
    for th in threads:
        th.join(120)


def counter():
    return ts.db_counter()


def records_of(schema_type):
    """{id: (change_id, hash)} of the stored records of one schema type."""
    rows = h.sql(f"SELECT id, change_id, hash FROM sync_records WHERE schema_type = '{schema_type}'")
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def transmission_stored(tid):
    return int(h.sql(f"SELECT COUNT(*) FROM sync_transmissions WHERE transmission_id = '{tid}'")[0][0])


def wait_counter_held(timeout=20):
    """Returns once the holder's `SELECT SLEEP(...)` runs, so its FOR UPDATE lock on the
    change counter is taken (a fixed pause was not always enough under ASan)."""
    def held():
        return h.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                     "WHERE INFO LIKE 'SELECT SLEEP(%'")[0][0] != "0"
    assert h.wait_until(held, timeout=timeout, interval=0.05), "the holder never took the counter's lock"


def admin_cli(*args):
    return subprocess.run([ADMIN, "--config", os.path.join(h.STATE, "synkronus.conf"), *args],
                          capture_output=True, text=True, timeout=120)


def store_entries():
    return sorted(os.listdir(VERSIONS)) if os.path.isdir(VERSIONS) else []


def tmp_entries():
    return sorted(os.listdir(TMP)) if os.path.isdir(TMP) else []


def bundle_state():
    last, active = h.sql("SELECT last_version, COALESCE(active_version, 0) FROM bundle_state")[0]
    return int(last), int(active)


def ensure_active_bundle(testcase):
    """Pushes a bundle and makes it active; returns (version name, its files)."""
    files = tb.bundle_files("faults-" + uuid.uuid4().hex[:8])
    r = tb.push(tb.make_zip(files))
    testcase.assertEqual(r.status, 200, r)
    version = r.json["manifest"]["version"]
    testcase.assertEqual(tb.switch(version).status, 200)
    return version, files


def assert_pushes_stored_once(testcase, schema_type, told, counter_before):
    """`told`: (tid, body, records, response bytes) of every push answered 200. Each is
    stored whole, in one contiguous block of change ids, nothing stored twice, and a
    resend of its transmission_id replays the answer the client was given."""
    stored = records_of(schema_type)
    total = sum(len(recs) for _, _, recs, _ in told)
    testcase.assertEqual(len(stored), total, "records missing or extra")
    for tid, body, recs, response in told:
        ids = sorted(stored[r["id"]][0] for r in recs)
        testcase.assertEqual(ids, list(range(ids[0], ids[0] + len(recs))), f"push {tid} is not one block")
        for r in recs:
            testcase.assertEqual(stored[r["id"]][1], ts.expected_hash(r["data"], r["schemaType"], r["schemaVersion"]))
        testcase.assertEqual(transmission_stored(tid), 1)
        again = h.request("POST", "/sync/push", body, token=testcase.token)
        testcase.assertEqual((again.status, again.body), (200, response), tid)
    # Every change id the counter handed out went to exactly one of these records.
    testcase.assertEqual(counter() - counter_before, total)
    testcase.assertEqual(counter(), ts.db_max_change())


class DatabaseKilled(unittest.TestCase):
    """SIGKILL of mariadbd while clients push; clients retry with the same transmission_id."""

    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def test_pushes_answered_200_survive_and_retries_never_duplicate(self):
        t = ts.utype("Kill")
        before = counter()
        told, lock = [], threading.Lock()
        retried = []
        stop = threading.Event()
        errors = []

        def client(n):
            while not stop.is_set():
                recs = [ts.rec(ts.uid(f"k{n}"), t, {"n": i, "c": n}) for i in range(5)]
                body = ts.push_body(recs, client_id=f"kill-{n}")
                r, attempts = until_answered(lambda: h.request("POST", "/sync/push", body, token=self.token))
                if r is None or r.status != 200:
                    errors.append(("no 200 within 90 s", r))
                    return
                with lock:
                    told.append((body["transmission_id"], body, recs, r.body))
                    if attempts > 1:
                        retried.append(body["transmission_id"])

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
        # At least 9 answered in all, pushes retried across the restart among them.
        kill_the_database_under(self, threads, lambda: len(told), after=5, stop=stop)
        self.assertEqual(errors, [])
        self.assertGreater(len(told), 8, "the load did not run")
        self.assertGreater(len(retried), 0, "no push was cut by the kill")
        assert_pushes_stored_once(self, t, told, before)
        # The overview's record counts (kept in the push transactions) still equal a
        # fresh count of the records: none was added by a push that did not commit.
        trc.assert_counts_exact(self)


class DatabaseKilledHistory(unittest.TestCase):
    """SIGKILL of mariadbd while clients rewrite their records (issue 15): the history
    holds exactly the versions the clients were told were replaced, once each, and the
    attachment references are those of the versions stored."""

    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def test_history_and_references_match_what_clients_were_told(self):
        t = ts.utype("KillHist")
        acked = {}  # record id -> [data of each version answered 200, in order]
        lock = threading.Lock()
        stop = threading.Event()
        errors, retried = [], []

        def client(n):
            ids = [ts.uid(f"kh{n}") for _ in range(3)]
            v = 0
            while not stop.is_set():
                v += 1
                datas = {i: {"v": v, "photo": f"{uuid.uuid4()}.jpg"} for i in ids}
                body = ts.push_body([ts.rec(i, t, datas[i]) for i in ids], client_id=f"killhist-{n}")
                r, attempts = until_answered(lambda: h.request("POST", "/sync/push", body, token=self.token))
                if r is None or r.status != 200:
                    errors.append(r)
                    return
                with lock:
                    for i in ids:
                        acked.setdefault(i, []).append(datas[i])
                    if attempts > 1:
                        retried.append(body["transmission_id"])

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
        kill_the_database_under(self, threads, lambda: sum(len(v) for v in acked.values()), before=12,
                                after=12, stop=stop)
        self.assertEqual(errors, [])
        self.assertGreater(len(retried), 0, "no push was cut by the kill")
        self.assertTrue(any(len(v) > 2 for v in acked.values()), "the load did not run")
        for rid, versions in acked.items():
            stored = json.loads(h.sql(f"SELECT data FROM sync_records WHERE id = '{rid}'")[0][0])
            self.assertEqual(stored, versions[-1], rid)
            kept = [json.loads(r[0]) for r in
                    h.sql(f"SELECT data FROM sync_record_history WHERE record_id = '{rid}' ORDER BY change_id")]
            self.assertEqual(kept, versions[:-1], f"history of {rid}")
            refs = [r[0] for r in h.sql(f"SELECT attachment_id FROM attachment_refs WHERE record_id = '{rid}'")]
            self.assertEqual(refs, [versions[-1]["photo"]], f"references of {rid}")
        trc.assert_counts_exact(self)


class DatabaseKilledCounts(unittest.TestCase):
    """SIGKILL of mariadbd while clients insert, update, delete, revive and move records
    between form types, and upload and delete attachments (issue 15): the overview's
    record counts and attachment totals, kept in the push, upload and deletion
    transactions, equal a fresh count afterwards; pushes cut by the kill are repeated
    under their transmission_id, uploads and deletions as they are."""

    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def test_counts_equal_a_fresh_count_after_the_kill(self):
        types = [ts.utype("KillCount") for _ in range(2)]
        pool = [ts.uid("kc") for _ in range(30)]
        stop = threading.Event()
        errors, retried, answered = [], [], []
        pushed = set()  # ids of the pushes answered 200 (each is repeated until it is)

        def client(n):
            rnd = random.Random(n)
            while not stop.is_set():
                recs = [ts.rec(i, rnd.choice(types), {"v": rnd.randrange(4)}, deleted=rnd.random() < 0.3)
                        for i in rnd.sample(pool, 5)]
                body = ts.push_body(recs, client_id=f"killcount-{n}")
                r, attempts = until_answered(lambda: h.request("POST", "/sync/push", body, token=self.token))
                if r is None or r.status != 200:
                    errors.append(r)
                    return
                pushed.update(rec["id"] for rec in recs)
                answered.append(1)
                if attempts > 1:
                    retried.append(body["transmission_id"])

        atts = [trc.ta.new_id() for _ in range(8)]

        def uploader(n):
            rnd = random.Random(50 + n)
            while not stop.is_set():
                att = rnd.choice(atts)
                if rnd.random() < 0.4:  # a repeat may find its first attempt committed: 404
                    r, _ = until_answered(lambda: h.request("DELETE", "/attachments/" + att, token=h.admin_token()),
                                          accepted=(200, 404))
                else:  # the same bytes per id: a repeat of a stored upload is 200
                    r, _ = until_answered(lambda: trc.ta.put(att, b"k" * (40 + atts.index(att))))
                if r is None or r.status not in (200, 404):
                    errors.append(r)
                    return
                answered.append(1)

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(3)]
        threads += [threading.Thread(target=uploader, args=(n,), daemon=True) for n in range(2)]
        kill_the_database_under(self, threads, lambda: len(answered), before=8, after=8, stop=stop)
        self.assertEqual(errors, [])
        self.assertGreater(len(retried), 0, "no push was cut by the kill")
        # One record per id pushed, in whichever (type, deleted) row it ended in.
        self.assertEqual(sum(n for (t, d), n in trc.kept().items() if t in types), len(pushed))
        trc.assert_counts_exact(self)
        trc.assert_attachment_totals_exact(self)


class DatabaseKilledProvisioning(unittest.TestCase):
    """SIGKILL of mariadbd while admins provision devices (issue 15): a 200 means the
    user, its password and its device.provision event exist; an error means the user
    change and its event both happened or neither did, never one without the other,
    and a reset that happened revoked the user's sessions."""

    def provision(self, name, conn=None):
        return h.request("POST", "/admin/devices/provision", {"username": name, "server_url": "https://s.example.org"},
                         token=h.admin_token(), conn=conn)

    def events(self, name):
        return int(h.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'device.provision' "
                         f"AND target = '{name}'")[0][0])

    def user_exists(self, name):
        return int(h.sql(f"SELECT COUNT(*) FROM users WHERE username = '{name}'")[0][0]) == 1

    def test_users_events_and_sessions_match_what_admins_were_told(self):
        # Device users to reset, each with a session and a known password.
        existing = []
        for _ in range(24):
            name = h.unique_name("kprov")
            r = self.provision(name)
            self.assertEqual(r.status, 200, r)
            existing.append((name, r.json["password"], h.login(name, r.json["password"])["refreshToken"]))
        told, failed, errors, lock = {}, [], [], threading.Lock()
        stop = threading.Event()
        queue = list(existing)

        def client(n):
            conn = None
            while not stop.is_set():
                with lock:
                    job = queue.pop() if queue and n % 2 else None
                name = job[0] if job else h.unique_name(f"kprov{n}")
                try:
                    r = self.provision(name, conn=conn)
                except Exception:
                    r = None
                    conn = None
                with lock:
                    if r is not None and r.status == 200:
                        told[name] = r.json["password"]
                    elif r is None or r.status in (502, 503, 504):
                        failed.append(name)
                    else:
                        errors.append((name, r))
                        return
                time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
        kill_the_database_under(self, threads, lambda: len(told), stop=stop)
        self.assertEqual(errors, [])
        self.assertGreater(len(failed), 0, "no provisioning call was cut by the kill")
        before = {name: (pw, refresh) for name, pw, refresh in existing}
        for name, pw in told.items():
            # Made or reset as told: the user, the told password and one more event.
            self.assertTrue(self.user_exists(name), name)
            self.assertEqual(self.events(name), 2 if name in before else 1, name)
            h.login(name, pw)
        for name in failed:
            if name in told:
                continue  # a later call of the same name (none: each name is used once)
            n = self.events(name)
            if name in before:
                old_pw, refresh = before[name]
                self.assertIn(n, (1, 2), name)
                reset = n == 2
                # The new password and the revocation came with the event, or none of them.
                login = h.request("POST", "/auth/login", {"username": name, "password": old_pw})
                self.assertEqual(login.status, 401 if reset else 200, (name, n, login))
                ref = h.request("POST", "/auth/refresh", {"refreshToken": refresh})
                self.assertEqual(ref.status, 401 if reset else 200, (name, n, ref))
            else:
                self.assertEqual(self.user_exists(name), n == 1, (name, n))
                self.assertIn(n, (0, 1), name)
        # Resets answered 200 revoked the sessions of before.
        for name in told:
            if name in before:
                self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": before[name][1]}).status, 401, name)


class DatabaseKilledBundleSwitch(unittest.TestCase):
    """SIGKILL of mariadbd while an admin switches the app bundle back and forth (issue
    15): every switch answered 200 has its bundle.switch event, a cut switch has one
    or none, and the active version is the target of the last event."""

    @staticmethod
    def explained(calls, events):
        """Whether events (targets, in id order) can be matched to calls ((version, 200?)
        in order) with every 200 matched and every event matched to exactly one call."""
        reach = {0}  # how many events the calls so far can have explained
        for version, ok in calls:
            step = {i + 1 for i in reach if i < len(events) and events[i] == int(version)}
            reach = step if ok else reach | step
        return len(events) in reach

    def test_switches_and_events_match_what_the_admin_was_told(self):
        a, _ = ensure_active_bundle(self)
        b, _ = ensure_active_bundle(self)
        first_event = int(h.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])
        calls, errors = [], []  # (version, told 200)
        stop = threading.Event()

        def admin():
            n = 0
            while not stop.is_set():
                version = (a, b)[n % 2]
                n += 1
                try:
                    r = tb.switch(version)
                except Exception:
                    r = None
                if r is not None and r.status not in (200, 502, 503, 504):
                    errors.append(r)
                    return
                calls.append((version, r is not None and r.status == 200))
                time.sleep(0.01)

        kill_the_database_under(self, [threading.Thread(target=admin, daemon=True)],
                                lambda: sum(ok for _, ok in calls), stop=stop)
        self.assertEqual(errors, [])
        self.assertIn(False, [ok for _, ok in calls], "no switch was cut by the kill")
        events = [int(t) for (t,) in h.sql("SELECT target FROM audit_log WHERE action = 'bundle.switch' "
                                            f"AND id > {first_event} ORDER BY id")]
        # The events match the calls in order: one per 200, at most one per cut call.
        # (Which cut calls made one is not known, so any such matching will do.)
        self.assertTrue(self.explained(calls, events), f"calls {calls} do not explain events {events}")
        self.assertEqual(bundle_state()[1], events[-1])


class WorkerKilled(unittest.TestCase):
    """SIGKILL of the worker serving a bundle push or a large sync push."""

    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def test_bundle_push_leaves_no_version_and_no_stray_files(self):
        tb.push_ok(tb.bundle_files("before-kill"))  # the store exists and a version is stored
        self.assertTrue(h.wait_until(lambda: tmp_entries() == [], timeout=10), tmp_entries())
        last_before, active_before = bundle_state()
        entries_before = store_entries()
        # Large and incompressible: the worker spends a while receiving and extracting it.
        big = {f"app/data/{i:03}.bin": os.urandom(64 * 1024) for i in range(320)}
        zip_bytes = tb.make_zip(tb.bundle_files("killed", big), compression=tb.zipfile.ZIP_STORED)
        outcome = {}

        def pusher():
            try:
                outcome["reply"] = tb.push(zip_bytes)
            except Exception as e:
                outcome["reply"] = e

        th = threading.Thread(target=pusher, daemon=True)
        th.start()
        victim, seen = h.worker_with_open_file(lambda t: t.startswith(TMP + "/push-"), pause=0.001)
        self.assertIsNotNone(victim, "never saw a worker writing the upload")
        sigkill_and_wait(victim)
        th.join(60)
        reply = outcome["reply"]
        h.assert_problem(self, reply, 502, "unavailable")
        # Nothing of the killed push is a version, in the database or in versions/.
        self.assertEqual(bundle_state(), (last_before, active_before))
        self.assertEqual(store_entries(), entries_before)
        # The replacement worker removes what the killed one left in tmp/.
        self.assertTrue(h.wait_until(lambda: tmp_entries() == [], timeout=15), (seen, tmp_entries()))
        # The replacement logs what it removed after removing it: wait for the line.
        self.assertTrue(h.wait_until(lambda: "leftover(s) of dead workers" in
                                     open(os.path.join(h.STATE, "logs", "workers.log")).read(), timeout=10))
        # The next push gets the next number, as if the killed one had never been.
        m = tb.push_ok(tb.bundle_files("after-kill"))
        self.assertEqual(int(m["version"]), last_before + 1)

    def test_large_sync_push_is_applied_wholly_or_not_at_all(self):
        t = ts.utype("KillSync")
        recs = [ts.rec(ts.uid(), t, {"n": i, "pad": "x" * 2000}) for i in range(1000)]
        body = ts.push_body(recs)
        tid = body["transmission_id"]
        before = counter()
        # The test holds the change counter, so the push stops inside its transaction
        # (its transmission row inserted, its records about to be): the worst moment.
        holder = subprocess.Popen(
            ["mariadb", "--no-defaults", "-uroot", "--socket=" + os.path.join(h.STATE, "mysql-run/mysqld.sock"),
             "synkronus", "-e", "BEGIN; SELECT * FROM sync_counter WHERE id = 1 FOR UPDATE; SELECT SLEEP(4); COMMIT;"],
            stdout=subprocess.DEVNULL)
        try:
            wait_counter_held()
            outcome = {}
            th = threading.Thread(target=lambda: outcome.update(reply=h.request("POST", "/sync/push", body,
                                                                                token=self.token)), daemon=True)
            th.start()

            def waiting():
                return h.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE user = 'synkronus' "
                             "AND state LIKE '%lock%'")[0][0] != "0" or \
                    h.sql("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")[0][0] != "0"
            self.assertTrue(h.wait_until(waiting, timeout=10), "the push never waited on the counter")
            workers = h.wait_for_workers()
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            th.join(30)
        finally:
            holder.wait(30)
        h.assert_problem(self, outcome["reply"], 502, "unavailable")
        self.assertTrue(h.wait_until(lambda: len(h.worker_pids()) == len(workers), timeout=15))
        # The server rolled the dead connection's transaction back: nothing of it is stored.
        self.assertTrue(h.wait_until(lambda: h.sql(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX")[0][0] == "0", timeout=15))
        self.assertEqual(records_of(t), {})
        self.assertEqual(transmission_stored(tid), 0)
        self.assertEqual(counter(), before)
        # The client's retry with the same transmission_id is a clean apply.
        r = h.request("POST", "/sync/push", body, token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["success_count"], 1000)
        assert_pushes_stored_once(self, t, [(tid, body, recs, r.body)], before)


class StoreFull(unittest.TestCase):
    """The bundle store's filesystem full during a bundle push (a tmpfs mounted over it)."""

    def setUp(self):
        self.version, self.files = ensure_active_bundle(self)
        self.mnt = os.path.join(h.STATE, "full-store")
        os.makedirs(self.mnt, exist_ok=True)
        used = int(subprocess.run(["du", "-s", "-B1", BUNDLES], capture_output=True, text=True).stdout.split()[0])
        size = used + 12 * 1024 * 1024
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", self.mnt], check=True)
        subprocess.run(["cp", "-a", BUNDLES + "/.", self.mnt], check=True)
        subprocess.run(["mount", "--bind", self.mnt, BUNDLES], check=True)
        self.filler = os.path.join(self.mnt, "filler")

    def tearDown(self):
        # What was pushed into the small filesystem goes back to the real one.
        # Lazily: a file nginx still has open (a download a client reads slowly)
        # must not keep the small filesystem over the store for the tests after this.
        umount = subprocess.run(["umount", "--lazy", BUNDLES], capture_output=True, text=True)
        self.assertEqual(umount.returncode, 0, umount.stderr)
        if os.path.exists(self.filler):
            os.unlink(self.filler)
        shutil.rmtree(BUNDLES)
        subprocess.run(["cp", "-a", self.mnt, BUNDLES], check=True)
        subprocess.run(["umount", "--lazy", self.mnt], check=True)
        os.rmdir(self.mnt)

    def leave_free(self, nbytes):
        if os.path.exists(self.filler):
            os.unlink(self.filler)
        st = os.statvfs(self.mnt)
        free = st.f_bavail * st.f_frsize
        with open(self.filler, "wb") as f:
            f.write(b"\0" * max(0, free - nbytes))

    def assert_served_unchanged(self, manifest):
        r = tb.get("/app-bundle/manifest")
        self.assertEqual((r.status, r.json), (200, manifest))
        r = tb.get(tb.download_url("app/index.html"))
        self.assertEqual((r.status, r.body), (200, self.files["app/index.html"].encode()))

    def test_full_disk_is_503_and_nothing_half_written(self):
        manifest = tb.get("/app-bundle/manifest").json
        self.assertEqual(manifest["version"], self.version)
        state_before, entries_before = bundle_state(), store_entries()
        big = {f"app/data/{i:02}.bin": os.urandom(256 * 1024) for i in range(16)}  # 4 MiB, stored
        zip_bytes = tb.make_zip(tb.bundle_files("full", big), compression=tb.zipfile.ZIP_STORED)
        # 6 MiB free: the upload fits, its extraction does not; 2 MiB: not even the upload.
        for free, where in ((6 << 20, "extraction"), (2 << 20, "upload")):
            with self.subTest(full_during=where):
                self.leave_free(free)
                r = tb.push(zip_bytes)
                p = h.assert_problem(self, r, 503, "unavailable")
                self.assertIn("storage is full", p["detail"])
                self.assertIsNotNone(r.header("retry-after"))
                self.assertEqual(r.header("x-api-version-used"), "1.0.0")
                self.assertNotIn("/", p["detail"])
                # Nothing half-written is visible or left behind.
                self.assertEqual(bundle_state(), state_before)
                self.assertEqual(store_entries(), entries_before)
                self.assertEqual(tmp_entries(), [])
                self.assert_served_unchanged(manifest)
                self.assertEqual(h.request("GET", "/health").status, 200)
        # Space returns: the same push goes through.
        os.unlink(self.filler)
        r = tb.push(zip_bytes)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(int(r.json["manifest"]["version"]), state_before[0] + 1)
        self.assert_served_unchanged(manifest)


class SlowDatabase(unittest.TestCase):
    """A lock held on the change counter for longer than the request may wait."""

    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def tearDown(self):
        # Back to the stack's usual nginx and workers, whatever happened.
        h.stack("stack_reload_nginx")
        h.stack("stack_stop_workers", "stack_start_workers")

    def hold_counter(self, seconds):
        p = subprocess.Popen(
            ["mariadb", "--no-defaults", "-uroot", "--socket=" + os.path.join(h.STATE, "mysql-run/mysqld.sock"),
             "synkronus", "-e", f"BEGIN; SELECT * FROM sync_counter WHERE id = 1 FOR UPDATE; "
                                f"SELECT SLEEP({seconds}); COMMIT;"], stdout=subprocess.DEVNULL)
        self.addCleanup(p.wait, 60)
        wait_counter_held()
        return p

    def test_worker_gives_up_on_the_lock_before_nginx_does(self):
        h.stack("stack_stop_workers", "stack_start_workers", env={"SYNKRONUS_DB_LOCK_WAIT_TIMEOUT": "2"})
        t = ts.utype("Slow")
        recs = [ts.rec(ts.uid(), t)]
        body = ts.push_body(recs)
        before = counter()
        holder = self.hold_counter(6)
        start = time.time()
        r = h.request("POST", "/sync/push", body, token=self.token)
        elapsed = time.time() - start
        p = h.assert_problem(self, r, 503, "unavailable")
        self.assertIn("busy", p["detail"])
        self.assertIsNotNone(r.header("retry-after"))
        # One lock wait, not one per retry.
        self.assertLess(elapsed, 4.5)
        holder.wait(30)
        self.assertEqual(transmission_stored(body["transmission_id"]), 0)
        r = h.request("POST", "/sync/push", body, token=self.token)
        self.assertEqual(r.status, 200, r)
        assert_pushes_stored_once(self, t, [(body["transmission_id"], body, recs, r.body)], before)

    def test_nginx_answers_504_and_the_worker_serves_again(self):
        h.stack("stack_reload_nginx", env={"FASTCGI_READ_TIMEOUT": "1s"})
        h.stack("stack_stop_workers", "stack_start_workers", env={"SYNKRONUS_DB_LOCK_WAIT_TIMEOUT": "3"})
        # The whole new pool: read while the last worker was still being forked, this
        # once saw two pids of three (and the test failed on the third, later).
        workers = h.wait_for_workers()
        t = ts.utype("Slow504")
        recs = [ts.rec(ts.uid(), t), ts.rec(ts.uid(), t)]
        body = ts.push_body(recs)
        before = counter()
        holder = self.hold_counter(5)
        start = time.time()
        r = h.request("POST", "/sync/push", body, token=self.token)
        p = h.assert_problem(self, r, 504, "unavailable")
        self.assertLess(time.time() - start, 2.5)
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        self.assertIsNotNone(r.header("retry-after"))
        self.assertNotIn("/", p["detail"])
        # The other workers serve meanwhile.
        self.assertEqual(h.request("GET", "/users", token=h.admin_token()).status, 200)
        holder.wait(30)
        # The stuck worker gave up on its lock by itself (no worker died or was
        # replaced) and every worker serves again.
        self.assertEqual(sorted(h.worker_pids()), sorted(workers))
        statuses = [h.request("GET", "/users", token=h.admin_token()).status for _ in range(4 * len(workers))]
        self.assertEqual(statuses, [200] * len(statuses))
        self.assertEqual(sorted(h.worker_pids()), sorted(workers))
        # What nginx answered 504 was not stored; the client's retry applies it once.
        self.assertEqual(transmission_stored(body["transmission_id"]), 0)
        self.assertEqual(records_of(t), {})
        r = h.request("POST", "/sync/push", body, token=self.token)
        self.assertEqual(r.status, 200, r)
        assert_pushes_stored_once(self, t, [(body["transmission_id"], body, recs, r.body)], before)


class StoreDisagrees(unittest.TestCase):
    """The database names an active version whose files are gone (a purge and
    reinstall that kept the database)."""

    def setUp(self):
        self.version, self.files = ensure_active_bundle(self)
        self.manifest = tb.get("/app-bundle/manifest").json
        self.dir = os.path.join(VERSIONS, self.version)
        self.zip = self.dir + ".zip"
        self.kept = os.path.join(h.STATE, "kept-" + self.version)
        os.makedirs(self.kept)
        shutil.copytree(self.dir, os.path.join(self.kept, "dir"))
        shutil.copy2(self.zip, os.path.join(self.kept, "zip"))

    def tearDown(self):
        # Put the files back and the version active again, so the stack is healthy.
        if not os.path.isdir(self.dir):
            shutil.copytree(os.path.join(self.kept, "dir"), self.dir)
        if not os.path.exists(self.zip):
            shutil.copy2(os.path.join(self.kept, "zip"), self.zip)
        shutil.rmtree(self.kept)
        tb.switch(self.version)
        self.assertTrue(h.wait_until(lambda: h.request("GET", "/health").status == 200, timeout=10))

    def assert_names_the_problem(self):
        def refused():
            return tb.get("/app-bundle/manifest").status == 503
        self.assertTrue(h.wait_until(refused, timeout=5))
        for path in ("/app-bundle/manifest", tb.download_url("app/index.html"), "/app-bundle/download-zip"):
            r = tb.get(path)
            p = h.assert_problem(self, r, 503, "unavailable")
            self.assertIn(f"app bundle version {self.version} are missing", p["detail"])
            self.assertIn("synkronus-admin check", p["detail"])
            self.assertNotIn(BUNDLES, p["detail"])
        # Also when the client holds the current manifest: no 304 that says "all is well".
        r = tb.get("/app-bundle/manifest", headers={"If-None-Match": f'"{self.manifest["hash"]}"'})
        h.assert_problem(self, r, 503, "unavailable")
        r = h.request("GET", "/health")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.json["status"], "error")
        self.assertIn(f"active version {self.version}", r.json["error"])
        self.assertIn("missing", r.json["error"])

    def test_repair_republishes_from_the_kept_zip(self):
        shutil.rmtree(self.dir)
        self.assert_names_the_problem()
        c = admin_cli("check")
        self.assertEqual(c.returncode, 1, c)
        self.assertIn(f"app bundle version {self.version} (active): its directory is missing", c.stdout)
        c = admin_cli("check", "--repair")
        self.assertEqual(c.returncode, 0, c)
        self.assertIn(f"app bundle version {self.version} (active): its directory is missing; "
                      "repaired: re-published from its ZIP", c.stdout)
        self.assertEqual(admin_cli("check").returncode, 0)
        self.assertTrue(h.wait_until(lambda: tb.get("/app-bundle/manifest").status == 200, timeout=5))
        self.assertEqual(tb.get("/app-bundle/manifest").json, self.manifest)
        for path, content in self.files.items():
            r = tb.get(tb.download_url(path))
            self.assertEqual((r.status, r.body), (200, content.encode()), path)
        self.assertEqual(h.request("GET", "/health").status, 200)

    def test_repair_deactivates_what_cannot_be_repaired(self):
        shutil.rmtree(self.dir)
        os.unlink(self.zip)
        self.assert_names_the_problem()
        c = admin_cli("check", "--repair")
        self.assertEqual(c.returncode, 0, c)
        self.assertIn(f"app bundle version {self.version} (active): its ZIP is missing; its directory is missing; "
                      "deactivated", c.stdout)
        self.assertEqual(bundle_state()[1], 0)
        # Workers may reuse the active version they read for bundle_cache_ms (1 s):
        # synkronus-admin is not one of them, so they see the change within that time.
        time.sleep(1.2)
        # No manifest names missing files any more: the empty manifest, and health is ok.
        self.assertEqual(tb.get("/app-bundle/manifest").json["files"], [])
        self.assertEqual(h.request("GET", "/health").status, 200)
        # The version itself is still listed and still broken: check says so until
        # its files come back.
        c = admin_cli("check")
        self.assertEqual(c.returncode, 1, c)
        self.assertIn(f"app bundle version {self.version}: its ZIP is missing", c.stdout)


if __name__ == "__main__":
    unittest.main()
