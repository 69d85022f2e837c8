"""Helpers of the cluster tests: the endpoints of packaging/cluster.sh, SQL on one
Galera node, and the script's functions to kill and restart nodes and hosts."""
import http.client
import os
import subprocess
import time
import urllib.parse

import harness as h

CLUSTER = os.environ["CLUSTER"]
REPO = os.environ["REPO"]
NODES = (1, 2, 3)


def _endpoints():
    with open(os.path.join(CLUSTER, "endpoints")) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


ENDPOINTS = _endpoints()


def connector(name):
    """A function opening an HTTPS connection to 'front', 'host1' or 'host2'."""
    u = urllib.parse.urlparse(ENDPOINTS[name])
    return lambda: http.client.HTTPSConnection(u.hostname, u.port, context=h._ctx, timeout=60)


def request(name, method, path, **kw):
    conn = connector(name)()
    try:
        return h.request(method, path, conn=conn, **kw)
    finally:
        conn.close()


def do(*commands):
    """Runs packaging/cluster.sh functions (e.g. 'node_crash 2')."""
    script = ". " + os.path.join(REPO, "packaging/cluster.sh") + "; " + " && ".join(commands)
    subprocess.run(["bash", "-c", script], check=True, env=os.environ.copy(), stdout=subprocess.DEVNULL)


def node_sql(n, query, db="synkronus"):
    out = subprocess.run(
        ["mariadb", "--no-defaults", "-uroot", "--socket=" + os.path.join(CLUSTER, f"node{n}/mysqld.sock"),
         "-N", "-B", db, "-e", query], check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def status(n, name):
    rows = node_sql(n, f"SHOW GLOBAL STATUS LIKE '{name}'", db="mysql")
    return rows[0][1] if rows else None


def sql(query):
    """SQL on the first node that is Synced, reading after everything the cluster committed."""
    for n in NODES:
        try:
            if status(n, "wsrep_local_state_comment") == "Synced":
                return node_sql(n, "SET SESSION wsrep_sync_wait = 1; " + query)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            continue
    raise AssertionError("no Synced node")


def wait_cluster(timeout=180):
    """Until every node is Synced in a primary component of all three; returns the states."""
    deadline = time.time() + timeout
    while True:
        states = {}
        for n in NODES:
            try:
                states[n] = (status(n, "wsrep_cluster_size"), status(n, "wsrep_local_state_comment"),
                             status(n, "wsrep_cluster_status"))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                states[n] = None
        if all(s == ("3", "Synced", "Primary") for s in states.values()) or time.time() > deadline:
            return states
        time.sleep(0.5)


def assert_cluster_whole(tc):
    """Three Synced nodes in one primary component, holding the same records."""
    states = wait_cluster()
    tc.assertEqual(states, {n: ("3", "Synced", "Primary") for n in NODES})
    q = "SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT(id, hash, change_id))), 0) FROM sync_records"
    sums = {n: node_sql(n, q)[0] for n in NODES}
    tc.assertEqual(len({tuple(v) for v in sums.values()}), 1, f"nodes differ: {sums}")
