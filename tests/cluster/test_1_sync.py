"""The cursor never skips across hosts and nodes, and nothing acknowledged is lost:
the single-server concurrency check (sync_checker) with its threads spread over the
front balancer and both hosts (so pushes reach all nodes at once), then again while a
Galera node is killed and comes back, and while an app host is killed and comes back.

Each client moves to its next endpoint when a connection fails and repeats the same
request, as a phone retries another host with the same transmission_id."""
import os
import time
import unittest

import cluster as c
import sync_checker

DURATION = float(os.environ.get("CLUSTER_SYNC_SECONDS", "25"))
ENDPOINTS = ["front", "host1", "host2"]


def clients(i, token):
    order = [c.connector(ENDPOINTS[(i + j) % len(ENDPOINTS)]) for j in range(len(ENDPOINTS))]
    return sync_checker.Client(token, order, attempts=120)


class ClusterSync(unittest.TestCase):
    def test_a_steady(self):
        sync_checker.run_and_check(self, DURATION, clients, sql=c.sql)
        c.assert_cluster_whole(self)

    def test_b_node_killed_and_back(self):
        log = os.path.join(c.CLUSTER, "logs/node1.log")
        before = open(log).read().count("IST received")

        def fault(stop):
            time.sleep(DURATION / 4)
            c.do("node_crash 1")  # host1's first node, and the one that bootstrapped
            time.sleep(DURATION / 3)
            c.do("node_start 1", "node_wait_synced 1")

        sync_checker.run_and_check(self, DURATION, clients, sql=c.sql, during=fault, min_pushes=50)
        c.assert_cluster_whole(self)
        # It came back by incremental state transfer from the others' gcache.
        self.assertGreater(open(log).read().count("IST received"), before)

    def test_c_host_killed_and_back(self):
        def fault(stop):
            time.sleep(DURATION / 4)
            c.do("host_crash 1")
            time.sleep(DURATION / 3)
            c.do("host_start 1")

        sync_checker.run_and_check(self, DURATION, clients, sql=c.sql, during=fault, min_pushes=50)
        c.assert_cluster_whole(self)
        self.assertEqual(c.request("host1", "GET", "/health").status, 200)


if __name__ == "__main__":
    unittest.main()
