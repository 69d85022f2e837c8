"""`make run` (packaging/run.sh) refuses a state directory another stack is using,
naming that instance, and leaves it running. The test stack itself holds the lock:
tests/integration/run.sh took it through the same devstack.sh function, and that
shell is the parent of this test runner."""
import os
import subprocess
import unittest

import harness as h


class RunLock(unittest.TestCase):
    def test_second_run_on_the_same_state_refuses_and_leaves_the_first_alone(self):
        sock = os.path.join(h.STATE, "fcgi.sock")
        before = os.stat(sock).st_ino
        pids = {f: open(os.path.join(h.STATE, f)).read() for f in ("workers.pid", "nginx.pid", "mariadb.pid")}
        env = dict(os.environ, STATE=h.STATE)
        r = subprocess.run(["bash", os.path.join(h.REPO, "packaging/run.sh")], env=env, capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"{h.STATE} is in use by another instance (pid {os.getppid()})", r.stderr)
        # Nothing of the first instance was touched: its socket, its services, its pid files.
        self.assertEqual(os.stat(sock).st_ino, before)
        for f, pid in pids.items():
            self.assertEqual(open(os.path.join(h.STATE, f)).read(), pid, f)
            os.kill(int(pid), 0)
        self.assertEqual(h.request("GET", "/health").status, 200)

    def test_lock_is_free_once_the_holder_is_gone(self):
        # A state directory whose last user exited is taken without complaint (the
        # flock dies with its holder; a stale pid in the file does not block).
        state = os.path.join(h.STATE, "lock-probe")
        os.makedirs(state, exist_ok=True)
        with open(os.path.join(state, ".lock"), "w") as f:
            f.write("999999\n")
        script = f". {h.REPO}/packaging/devstack.sh; stack_lock && cat {state}/.lock"
        r = subprocess.run(["bash", "-c", script], env=dict(os.environ, STATE=state), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout.strip(), r"^\d+$")
        self.assertNotEqual(r.stdout.strip(), "999999")


if __name__ == "__main__":
    unittest.main()
