"""Shared helpers for the integration tests: an HTTPS client that verifies the
stack's certificate, login helpers, and control of the stack's processes."""
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import uuid

REPO = os.environ["REPO"]
# Directory of the binaries under test (build/, or build/asan/ for `make test-sanitize`).
BIN = os.environ.get("BIN", os.path.join(REPO, "build"))
# Set by tests/sanitize/run.sh: the server is an ASan build, whose shadow memory and
# quarantine make its RSS say nothing about ours, so memory bounds are checked only
# against the normal build (`make test`).
SANITIZED = os.environ.get("SANITIZED") == "1"
STATE = os.environ["STATE"]
BASE_URL = os.environ["BASE_URL"]
CACERT = os.environ["CACERT"]
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
_parsed = urllib.parse.urlparse(BASE_URL)
HOST, PORT = _parsed.hostname, _parsed.port

_ctx = ssl.create_default_context(cafile=CACERT)


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names (last value wins)
        self.header_list = None
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:300]!r}>"


def connection(timeout=60):
    return http.client.HTTPSConnection(HOST, PORT, context=_ctx, timeout=timeout)


def request(method, path, body=None, token=None, headers=None, conn=None, raw=None):
    """One HTTPS request. `body` is JSON-encoded unless `raw` bytes are given."""
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    own = conn is None
    c = conn or connection()
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        rep = Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
        rep.header_list = r.getheaders()
        return rep
    finally:
        if own:
            c.close()


def login(username, password):
    r = request("POST", "/auth/login", {"username": username, "password": password})
    assert r.status == 200, r
    return r.json


_admin_token = None


def admin_token():
    global _admin_token
    if _admin_token is None:
        _admin_token = login("admin", ADMIN_PASSWORD)["token"]
    return _admin_token


def unique_name(prefix="u"):
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def make_user(role="read-write", password="password-123", name=None):
    """Creates a user through the API; returns (username, password)."""
    name = name or unique_name()
    r = request("POST", "/users/create", {"username": name, "password": password, "role": role},
                token=admin_token())
    assert r.status == 201, r
    return name, password


def token_for(role="read-write"):
    name, pw = make_user(role)
    return login(name, pw)["token"]


def stack(*functions, env=None):
    """Runs devstack.sh functions (e.g. 'stack_stop_db') against the test stack, with
    `env` added to the environment (e.g. SYNKRONUS_<KEY> overrides for the workers)."""
    script = ". " + os.path.join(REPO, "packaging/devstack.sh") + "; " + " && ".join(functions)
    subprocess.run(["bash", "-c", script], check=True, env={**os.environ, **(env or {})})


def sql(query):
    """Runs SQL as root against the test database; returns rows as lists of strings."""
    out = subprocess.run(
        ["mariadb", "--no-defaults", "-uroot", "--socket=" + os.path.join(STATE, "mysql-run/mysqld.sock"),
         "-N", "-B", "synkronus", "-e", query], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class ScratchDatabase:
    """A database beside the stack's, with the same users' grants and a config file of
    its own, migrated by synkronus-admin from a copy of sql/ that holds only the
    migrations `first` keeps (the schema of an earlier release); add_all() then copies
    in the rest, and the next migrate() is the upgrade. Use it in a with-block: the
    database and the files are removed on leaving it."""

    def __init__(self, prefix, first):
        self.name = prefix + "_" + uuid.uuid4().hex[:10]
        self.first = first

    def __enter__(self):
        sql("CREATE DATABASE %s" % self.name)
        self.tmp = tempfile.mkdtemp()
        try:
            for user, host in sql("SELECT User, Host FROM mysql.db WHERE Db = 'synkronus'"):
                sql("GRANT ALL ON %s.* TO '%s'@'%s'" % (self.name, user, host))
            self.sql_dir = os.path.join(self.tmp, "sql")
            os.mkdir(self.sql_dir)
            self._copy(self.first)
            conf = open(os.path.join(STATE, "synkronus.conf")).read()
            conf = re.sub(r"(?m)^db_name = .*$", "db_name = " + self.name, conf)
            conf = re.sub(r"(?m)^sql_dir = .*$", "sql_dir = " + self.sql_dir, conf)
            self.conf = os.path.join(self.tmp, "synkronus.conf")
            with open(self.conf, "w") as f:
                f.write(conf)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        sql("DROP DATABASE IF EXISTS %s" % self.name)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _copy(self, keep):
        for f in os.listdir(os.path.join(REPO, "sql")):
            if f.endswith(".sql") and keep(f):
                shutil.copy(os.path.join(REPO, "sql", f), self.sql_dir)

    def add_all(self):
        self._copy(lambda f: True)

    def admin(self, *args):
        """synkronus-admin against this database; its output, or AssertionError."""
        r = subprocess.run([os.path.join(BIN, "synkronus-admin"), "--config", self.conf] + list(args),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("synkronus-admin %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def migrate(self):
        return self.admin("migrate")


def migration_number(f):
    return int(f.split("_")[0])


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] == "Z"
    except OSError:
        return True  # gone


def worker_pids():
    """Pids of the worker processes (live children of the supervisor; a killed worker
    its supervisor has not reaped yet is not one). What the pool is now: right after
    a kill it may lack the replacement; wait_for_workers() waits for a full pool."""
    sup = open(os.path.join(STATE, "workers.pid")).read().strip()
    out = subprocess.run(["pgrep", "-P", sup], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if not _zombie(int(p))]


def worker_with_open_file(match, timeout=60, going=lambda: True, pause=0.0):
    """The first worker seen holding a file whose /proc/PID/fd link `match` accepts, as
    (pid, link), looked for until `timeout` s pass or `going()` is false; (None, None) if
    none was seen. For tests that kill a worker in the middle of writing something."""
    deadline = time.time() + timeout
    while time.time() < deadline and going():
        for pid in worker_pids():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if match(target):
                    return pid, target
        if pause:
            time.sleep(pause)
    return None, None


def expected_workers():
    """The pool size of the test stack (WORKERS of tests/integration/run.sh)."""
    return int(os.environ.get("WORKERS", "3"))


def wait_for_workers(count=None, timeout=30.0):
    """The worker pids once the pool has `count` (default: the stack's WORKERS) live
    workers: read state only once it is the state you expect. Fails after `timeout`."""
    count = expected_workers() if count is None else count
    pids = []

    def full():
        nonlocal pids
        pids = worker_pids()
        return len(pids) == count
    assert wait_until(full, timeout=timeout), f"the pool has {len(pids)} workers, not {count}: {pids}"
    return pids


def kill_every_worker():
    """SIGKILLs every worker and waits until the supervisor has replaced them all;
    returns the pids killed. Fails after 15 s."""
    before = wait_for_workers()
    for pid in before:
        os.kill(pid, signal.SIGKILL)

    def all_replaced():
        now = worker_pids()
        return len(now) == len(before) and not set(now) & set(before)
    assert wait_until(all_replaced, timeout=15), (before, worker_pids())
    return before


def worker_bytes_written():
    """Bytes the workers have written (any fd) since they started: a file sent
    through a worker would show here, one sent by nginx from disk does not."""
    total = 0
    for pid in worker_pids():
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                if line.startswith("wchar:"):
                    total += int(line.split()[1])
    return total


def worker_peak_rss():
    """The largest peak resident set (VmHWM, bytes) of any worker."""
    peak = 0
    for pid in worker_pids():
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
    return peak


def wait_until(fn, timeout=20.0, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if fn():
                return True
        except Exception:
            pass
        time.sleep(interval)
    return False


class TooLate(Exception):
    """A try's window closed before its request was sent: the try proves nothing."""


class Window:
    """The time something a test relies on is sure to last (an answer nginx keeps, a
    worker's cache entry), counted from just before the requests that make it. A
    request that must be answered from it proves something only if it is sent within
    `lasts` seconds; a loaded machine may take longer to get there (a mariadb client, a
    subprocess, stopping the workers). `lasts` holds a margin for the request's own way."""

    def __init__(self, lasts):
        self.lasts = lasts
        self.opened = time.time()

    def check(self):
        """Raises TooLate once the window has closed: call it just before the request."""
        if time.time() - self.opened >= self.lasts:
            raise TooLate()


def within_window(testcase, attempt, lasts, pause=0.0, tries=4):
    """attempt(window) tried until one try sends, within its window, every request that
    needs what the window covers (it calls window.check() before each, which raises
    TooLate past the window, before sending); returns what that try returns. A try that
    fails for any other reason fails the test. A try undoes what it changed before it
    raises TooLate; `pause` seconds pass before the next (for what it made to expire)."""
    for _ in range(tries):
        try:
            return attempt(Window(lasts))
        except TooLate:
            time.sleep(pause)
    testcase.fail("too slow to prove anything: %d tries, none within %.1f s" % (tries, lasts))


def assert_problem(testcase, reply, status, slug):
    testcase.assertEqual(reply.status, status, reply)
    testcase.assertEqual(reply.header("content-type"), "application/problem+json", reply)
    p = reply.json
    testcase.assertEqual(p["type"], "https://synkronus.org/docs/errors/" + slug, p)
    testcase.assertEqual(p["status"], status)
    testcase.assertIn("title", p)
    testcase.assertIn("detail", p)
    # The current mobile app shows `message`, the same text (CONTRACT §7).
    testcase.assertEqual(p.get("message"), p["detail"], p)
    return p


def probe(token):
    """GET /users: 200 for an admin token, 403 for another valid token, 401 when refused."""
    return request("GET", "/users", token=token)


def wait_refused(testcase, token, since, limit=5.0):
    """Polls until the access token is refused (401 with WWW-Authenticate: Bearer);
    asserts that took at most `limit` seconds from `since`."""
    while True:
        r = probe(token)
        if r.status == 401:
            assert_problem(testcase, r, 401, "unauthorized")
            testcase.assertEqual(r.header("www-authenticate"), "Bearer", r)
            elapsed = time.time() - since
            testcase.assertLessEqual(elapsed, limit, f"access token still accepted after {elapsed:.1f}s")
            return
        testcase.assertIn(r.status, (200, 403), r)
        if time.time() - since > limit + 1:
            testcase.fail(f"access token still accepted {limit + 1}s after revocation")
        time.sleep(0.2)
