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
suite = unittest.defaultTestLoader.discover(here, pattern=pattern, top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
# Subtest failures are reported one by one; count each failing test once.
failed_ids = {getattr(t, "test_case", t).id() for t, _ in result.failures + result.errors}
failed_ids |= {t.id() for t in result.unexpectedSuccesses}
failed = len(failed_ids)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"\n{os.path.basename(here)}: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
