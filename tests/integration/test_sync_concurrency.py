"""The cursor never skips: pushes in parallel through nginx to several workers while
pullers loop from their own cursors; afterwards every puller's view must equal the
database exactly (the checker is sync_checker.py, shared with the cluster tests). The
run length is SYNC_CONCURRENCY_SECONDS (default 30).
"""
import os
import unittest

import sync_checker

DURATION = float(os.environ.get("SYNC_CONCURRENCY_SECONDS", "30"))


class CursorNeverSkips(unittest.TestCase):
    def test_pullers_see_exactly_the_database(self):
        sync_checker.run_and_check(self, DURATION)


if __name__ == "__main__":
    unittest.main()
