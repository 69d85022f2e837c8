"""Runs the integration test modules (or those of the directory given second) and
prints one closing line 'N passed, N failed'."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
if len(sys.argv) > 2:
    here = os.path.abspath(sys.argv[2])
    sys.path.insert(0, here)
loader = unittest.TestLoader()
# TEST_ORDER=reverse runs every class's methods in reverse name order: a test that
# passes only after another one ran first shows up.
if os.environ.get("TEST_ORDER") == "reverse":
    loader.sortTestMethodsUsing = lambda a, b: (a < b) - (a > b)
suite = loader.discover(here, pattern=pattern, top_level_dir=here)
# TEST_SHUFFLE=<seed> runs the tests in a random order: no test may depend on
# another having run first (or on the alphabetical order of names).
if os.environ.get("TEST_SHUFFLE"):
    import random

    def flat(s):
        for t in s:
            yield from (flat(t) if isinstance(t, unittest.TestSuite) else [t])

    tests = list(flat(suite))
    random.Random(os.environ["TEST_SHUFFLE"]).shuffle(tests)
    print("shuffled with seed", os.environ["TEST_SHUFFLE"])
    suite = unittest.TestSuite(tests)
import time


class TimedResult(unittest.TextTestResult):
    """Also keeps each test's duration: the slowest are printed at the end, so the
    time a suite takes in CI can be seen and cut where it goes."""
    durations = []

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.durations.append((time.monotonic() - self._t0, test.id()))


result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, resultclass=TimedResult).run(suite)
slowest = sorted(TimedResult.durations, reverse=True)[:int(os.environ.get("TEST_SLOWEST", "12"))]
if slowest:
    print("\nslowest tests (s):")
    for d, name in slowest:
        print(f"  {d:6.1f}  {name}")
# Subtest failures are reported one by one; count each failing test once.
failed_ids = {getattr(t, "test_case", t).id() for t, _ in result.failures + result.errors}
failed_ids |= {t.id() for t in result.unexpectedSuccesses}
failed = len(failed_ids)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"\n{os.path.basename(here)}: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
