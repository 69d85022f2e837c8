"""Data through an upgrade, over HTTPS as the clients reach the server.
  upgrade_data.py fill   HOST PORT ADMIN_PASSWORD STATE.json   puts data in, records what the server answered
  upgrade_data.py verify HOST PORT ADMIN_PASSWORD STATE.json   checks it all again (exit 1 on the first failure)
fill: two users (read-write, read-only), logins with refresh tokens, two app bundle versions (the
second activated), 100 records and 100 observations pushed by the read-write user, three attachments.
verify: the attachments first (nginx must serve them with the new snippet at once), then every record's
id, hash, change id and data, the users, the bundle versions, the active manifest's hash, old passwords,
the old access and refresh tokens, an idempotent replay of an old push, and a new push and pull.
"""
import hashlib
import http.client
import io
import json
import os
import ssl
import sys
import uuid
import zipfile

mode, host, port, admin_pw, state_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
context = ssl._create_unverified_context()  # the snakeoil certificate of README.Debian step 7


def call(method, path, body=None, token=None, raw=None, ctype=None):
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=60)
    headers = {"Host": "sync.example.org"}
    data = raw
    if body is not None:
        data, ctype = json.dumps(body), "application/json"
    if ctype:
        headers["Content-Type"] = ctype
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, data, headers)
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = None
    return resp.status, doc, payload


def expect(what, ok, detail=""):
    if not ok:
        print(f"FAIL  {what}: {detail}")
        sys.exit(1)
    print(f"ok    {what}")


def ok(method, path, body=None, token=None, raw=None, ctype=None, what=None):
    status, doc, payload = call(method, path, body, token, raw, ctype)
    expect(what or f"{method} {path}: 200", status == 200, f"{status} {payload[:300]!r}")
    return doc if doc is not None else payload


def login(username, password):
    return ok("POST", "/auth/login", {"username": username, "password": password}, what=f"login of {username}")


def multipart(field, filename, ctype, data):
    boundary = "----upgrade" + uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, "multipart/form-data; boundary=" + boundary


def bundle(n):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app/index.html", f"<html><body>bundle {n}</body></html>")
        z.writestr("forms/survey/schema.json", json.dumps(
            {"type": "object", "properties": {"core_id": {"type": "string"}, "answer": {"type": "integer"},
                                              f"extra_{n}": {"type": "string"}}}))
        z.writestr("forms/survey/ui.json", json.dumps({"type": "VerticalLayout", "elements": []}))
    return buf.getvalue()


def pull_all(token):
    out, page = {}, ok("POST", "/sync/pull?limit=500", {"client_id": "upgrade-puller", "after_change_id": 0}, token,
                       what="pull, first page")
    while True:
        for r in page["records"]:
            out[r["id"]] = {k: r.get(k) for k in ("hash", "change_id", "data", "deleted", "schemaType",
                                                   "schemaVersion", "last_modified_by")}
        if not page["has_more"]:
            return out
        page = ok("POST", "/sync/pull?limit=500&page_token=" + page["next_page_token"],
                  {"client_id": "upgrade-puller"}, token, what="pull, next page")


def snapshot(admin, state):
    return {
        "records": pull_all(admin),
        "users": ok("GET", "/users", token=admin, what="GET /users"),
        "versions": ok("GET", "/app-bundle/versions", token=admin, what="GET /app-bundle/versions"),
        "manifest_hash": ok("GET", "/app-bundle/manifest", token=admin, what="GET /app-bundle/manifest")["hash"],
    }


if mode == "fill":
    admin = login("admin", admin_pw)["token"]
    users = {"field1": ("read-write", "field1-password"), "viewer1": ("read-only", "viewer1-password")}
    for name, (role, pw) in users.items():
        status, _, payload = call("POST", "/users/create", {"username": name, "password": pw, "role": role}, admin)
        expect(f"create user {name}", status == 201, f"{status} {payload[:200]!r}")
    field = login("field1", "field1-password")
    viewer = login("viewer1", "viewer1-password")
    for n in (1, 2):
        body, ctype = multipart("bundle", f"bundle{n}.zip", "application/zip", bundle(n))
        ok("POST", "/app-bundle/push", token=admin, raw=body, ctype=ctype, what=f"push app bundle {n}")
    ok("POST", "/app-bundle/switch/0002", token=admin, what="switch to bundle version 0002")
    records = [{"id": f"rec-{i:03d}", "schemaType": "survey", "schemaVersion": "1",
                "data": {"core_id": f"c{i}", "answer": i, "note": "é ✓"}} for i in range(100)]
    observations = [{"observation_id": f"obs_1765000000000_{i}", "form_type": "survey", "form_version": "1",
                     "data": {"core_id": f"o{i}", "answer": -i}, "created_at": "2026-12-01T10:00:00Z",
                     "updated_at": "2026-12-01T10:05:00Z",
                     "geolocation": {"latitude": 1.5, "longitude": 36.8, "accuracy": 5, "altitude": None,
                                     "altitude_accuracy": None}} for i in range(100)]
    pushes = []
    for n, items in enumerate((records, observations)):
        push = {"transmission_id": f"upgradepush{n:05d}", "client_id": f"formulus-upgrade-{n}", "records": items}
        answer = ok("POST", "/sync/push", push, field["token"], what=f"push {len(items)} records (shape {n})")
        expect(f"all {len(items)} applied", answer.get("success_count") == len(items) and not answer.get("failed_records"),
               json.dumps(answer)[:300])
        pushes.append({"body": push, "success_count": answer["success_count"]})
    attachments = {}
    for i in range(3):
        data = os.urandom(3000 + 1000 * i)
        att = f"{uuid.uuid4()}.jpg"
        body, ctype = multipart("file", "photo.jpg", "image/jpeg", data)
        ok("PUT", "/attachments/" + att, token=field["token"], raw=body, ctype=ctype, what=f"upload attachment {i}")
        attachments[att] = hashlib.sha256(data).hexdigest()
    state = {"field": field, "viewer": viewer, "pushes": pushes, "attachments": attachments}
    state.update(snapshot(admin, state))
    expect("the snapshot holds the 200 records", len(state["records"]) >= 200, len(state["records"]))
    expect("bundle versions 0002 (active) and 0001", state["versions"] == {"versions": ["0002 *", "0001"]},
           state["versions"])
    json.dump(state, open(state_file, "w"))
    sys.exit(0)

state = json.load(open(state_file))
field = state["field"]
for att, digest in state["attachments"].items():
    status, _, payload = call("GET", "/attachments/" + att, token=field["token"])
    expect(f"attachment {att} served by nginx, bytes unchanged",
           status == 200 and hashlib.sha256(payload).hexdigest() == digest, f"{status} {payload[:200]!r}")
status, _, payload = call("GET", "/app-bundle/versions", token=field["token"])
expect("the access token issued before the upgrade still works", status == 200, f"{status} {payload[:200]!r}")
admin = login("admin", admin_pw)["token"]
login("field1", "field1-password")
login("viewer1", "viewer1-password")
after = snapshot(admin, state)
for key in ("users", "versions", "manifest_hash"):
    expect(f"{key} as before the upgrade", after[key] == state[key], f"{after[key]!r} != {state[key]!r}")
missing = [k for k in state["records"] if k not in after["records"]]
changed = [k for k in state["records"] if k in after["records"] and after["records"][k] != state["records"][k]]
expect(f"all {len(state['records'])} records with their hash, change id and data as before",
       not missing and not changed, f"missing {missing[:5]}, changed {changed[:5]}")
for n, push in enumerate(state["pushes"]):
    answer = ok("POST", "/sync/push", push["body"], field["token"], what=f"replay of push {n} (same transmission_id)")
    expect(f"replay {n} answers as before and applies nothing new",
           answer.get("success_count") == push["success_count"], json.dumps(answer)[:300])
expect("the replays changed no record", pull_all(admin) == after["records"])
for who in ("field", "viewer"):
    fresh = ok("POST", "/auth/refresh", {"refreshToken": state[who]["refreshToken"]},
               what=f"the refresh token of {who} issued before the upgrade")
    expect(f"a new pair for {who}", fresh.get("token") and fresh.get("refreshToken"), fresh)
ok("GET", "/app-bundle/download/app/index.html", token=admin, what="the active bundle's file downloads")
record = {"id": "after-upgrade-" + uuid.uuid4().hex, "schemaType": "survey", "schemaVersion": "2", "data": {"answer": 1}}
answer = ok("POST", "/sync/push", {"transmission_id": uuid.uuid4().hex, "client_id": "formulus-new", "records": [record]},
            field["token"], what="a new push after the upgrade")
expect("applied", answer.get("success_count") == 1, answer)
expect("and pulled back", record["id"] in pull_all(admin))
