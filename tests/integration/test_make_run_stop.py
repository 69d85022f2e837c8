"""`make run` promises that Ctrl-C or SIGTERM stops everything: a TERM sent to make,
to the stack script (packaging/run.sh) or to their whole process group (what a
supervisor or a test harness sends), once or twice in a row, leaves no nginx, worker
or MariaDB of that stack running, and its state directory's lock free.

A TERM to the group reaches the script twice (directly, and from make, which passes
its own TERM on to its child); before the fix the second one ended the script's
cleanup half-way and left services running. Each test starts a real `make run` on
free ports with its own state directory (its data is kept between the tests, so only
the first one initialises MariaDB). Skipped under the sanitizer build: what is under
test is make and the shell scripts, and `make run` builds and runs build/."""
import os
import signal
import socket
import subprocess
import unittest

import harness as h

STATE = os.path.join(h.STATE, "make-run")
LOG = os.path.join(h.STATE, "logs", "make-run.log")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def lock_is_free():
    return subprocess.run(["flock", "-n", os.path.join(STATE, ".lock"), "true"]).returncode == 0


@unittest.skipIf(h.SANITIZED, "make and the stack scripts are under test; `make run` runs build/")
class MakeRunStopsOnTerm(unittest.TestCase):
    def start(self):
        """`make run` in a session of its own (make leads the process group); returns
        (make's Popen, the script's pid, every service pid) once it serves."""
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        https, http, db = sorted(ports)
        # A make of its own: not a sub-make of the `make test` that may be running us.
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BIN")}
        env.update(STATE=STATE, HTTPS_PORT=str(https), HTTP_PORT=str(http), DB_PORT=str(db), WORKERS="2")
        os.makedirs(os.path.dirname(LOG), exist_ok=True)
        self.log_start = os.path.getsize(LOG) if os.path.exists(LOG) else 0
        log = open(LOG, "ab")
        self.addCleanup(log.close)
        p = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=h.REPO, env=env, stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self.force_stop, p)

        def serving():
            return b"synkronus-fcgi is running at" in self.output()
        self.assertTrue(h.wait_until(lambda: serving() or p.poll() is not None, timeout=180, interval=0.2))
        self.assertTrue(serving(), self.output()[-3000:])
        scripts = [c for c in children(p.pid)
                   if "packaging/run.sh" in open(f"/proc/{c}/cmdline").read().replace("\0", " ")]
        self.assertEqual(len(scripts), 1, children(p.pid))

        def pid_of(name):
            return int(open(os.path.join(STATE, name)).read().strip())
        services = [pid_of("mariadb.pid"), pid_of("nginx.pid"), pid_of("workers.pid")]
        nginx_workers = [c for c in children(pid_of("nginx.pid"))
                         if b"worker process" in open(f"/proc/{c}/cmdline", "rb").read()]
        self.assertEqual(len(children(pid_of("workers.pid"))), 2, services)
        self.assertEqual(len(nginx_workers), 2, services)
        # nginx's children: its 2 worker processes and the grant cache's manager (and,
        # for its first minute, loader)
        services += children(pid_of("workers.pid")) + children(pid_of("nginx.pid"))
        self.assertTrue(all(alive(s) for s in services), services)
        self.assertFalse(lock_is_free())
        return p, scripts[0], services

    def output(self):
        """What this test's `make run` printed so far."""
        with open(LOG, "rb") as f:
            f.seek(self.log_start)
            return f.read()

    def force_stop(self, p):
        # Whatever a failed test left: the stack script's own stop, then the group.
        if not lock_is_free():
            h.stack("stack_stop", "stack_stop_stragglers", env={"STATE": STATE})
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    def term(self, target, times):
        p, script, services = self.start()
        send = {"make": lambda: os.kill(p.pid, signal.SIGTERM),
                "script": lambda: os.kill(script, signal.SIGTERM),
                "group": lambda: os.killpg(p.pid, signal.SIGTERM)}[target]
        send()
        if times == 2:
            # The second one while the script is stopping the services.
            self.assertTrue(h.wait_until(lambda: b"[stack] stopping" in self.output(), timeout=60, interval=0.02))
            send()
        # make exits (at once, on a second TERM of its own); the script once it stopped all.
        p.wait(timeout=120)
        self.assertTrue(h.wait_until(lambda: not alive(script), timeout=120), "the stack script still runs")
        left = [s for s in services if alive(s)]
        self.assertEqual(left, [], f"left running after TERM to the {target} x{times}")
        self.assertTrue(lock_is_free(), "something still holds the state directory's lock")

    def test_term_to_make(self):
        self.term("make", 1)

    def test_term_to_make_twice(self):
        self.term("make", 2)

    def test_term_to_the_script(self):
        self.term("script", 1)

    def test_term_to_the_script_twice(self):
        self.term("script", 2)

    def test_term_to_the_process_group(self):
        self.term("group", 1)

    def test_term_to_the_process_group_twice(self):
        self.term("group", 2)


if __name__ == "__main__":
    unittest.main()
