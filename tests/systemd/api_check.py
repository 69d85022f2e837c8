"""The installed server over HTTPS, as a client reaches it through nginx:
/health, a login, a push, a pull of what was pushed, an attachment stored and read
back, and /version's commit.
Usage: api_check.py HOST PORT USERNAME PASSWORD COMMIT   (exit 1 on the first failure)
"""
import http.client
import json
import ssl
import sys
import uuid

host, port, username, password, commit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
# The snakeoil certificate of README.Debian step 7 is self-signed.
context = ssl._create_unverified_context()


def call(method, path, body=None, token=None):
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=30)
    headers = {"Host": "sync.example.org"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    return resp.status, doc, raw


def expect(what, ok, detail):
    if not ok:
        print(f"FAIL  {what}: {detail}")
        sys.exit(1)
    print(f"ok    {what}")


status, doc, raw = call("GET", "/health")
expect("GET /health: 200 ok", status == 200 and doc and doc.get("status") == "ok", f"{status} {raw[:200]!r}")

status, doc, raw = call("POST", "/auth/login", {"username": username, "password": password})
expect("POST /auth/login: 200 with a token", status == 200 and doc and doc.get("token"), f"{status} {raw[:200]!r}")
token = doc["token"]

record = {"id": "systemd-" + uuid.uuid4().hex, "schemaType": "systemd_test", "schemaVersion": "1",
          "data": {"answer": 42, "where": "a real systemd"}}
push = {"transmission_id": str(uuid.uuid4()), "client_id": "systemd-test", "records": [record]}
status, doc, raw = call("POST", "/sync/push", push, token)
expect("POST /sync/push: 200, one record applied",
       status == 200 and doc and doc.get("success_count") == 1 and doc.get("failed_records") == [],
       f"{status} {raw[:300]!r}")

status, doc, raw = call("POST", "/sync/pull", {"client_id": "systemd-test-2", "after_change_id": 0,
                                                "schema_types": ["systemd_test"]}, token)
pulled = [r for r in (doc or {}).get("records", []) if r.get("id") == record["id"]]
expect("POST /sync/pull: the pushed record comes back",
       status == 200 and len(pulled) == 1 and pulled[0].get("data") == record["data"], f"{status} {raw[:300]!r}")

# An attachment through the hardened unit: received into an unnamed file (O_TMPFILE) and
# linked by /proc/self/fd (run.sh then checks the journal for the fallback warning).
att_id = "systemd-" + uuid.uuid4().hex + ".bin"
att = uuid.uuid4().bytes * 128
boundary = "systemd-" + uuid.uuid4().hex
form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{att_id}\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n").encode() + att + f"\r\n--{boundary}--\r\n".encode()
conn = http.client.HTTPSConnection(host, port, context=context, timeout=30)
conn.request("PUT", "/attachments/" + att_id, form, {"Host": "sync.example.org", "Authorization": "Bearer " + token,
                                                     "Content-Type": "multipart/form-data; boundary=" + boundary})
resp = conn.getresponse()
raw = resp.read()
conn.close()
expect("PUT /attachments/{id}: 200", resp.status == 200, f"{resp.status} {raw[:300]!r}")
conn = http.client.HTTPSConnection(host, port, context=context, timeout=30)
conn.request("GET", "/attachments/" + att_id, headers={"Host": "sync.example.org", "Authorization": "Bearer " + token})
resp = conn.getresponse()
raw = resp.read()
conn.close()
expect("GET /attachments/{id}: the same bytes", resp.status == 200 and raw == att, f"{resp.status} {len(raw)} bytes")

status, doc, raw = call("GET", "/version")
got = ((doc or {}).get("build") or {}).get("commit")
expect(f"GET /version: build.commit is the packaged commit {commit}", status == 200 and got == commit,
       f"{status} commit {got!r}")
