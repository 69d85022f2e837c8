"""Data through an upgrade, over HTTPS as the clients reach the server.
  upgrade_data.py fill     HOST PORT ADMIN_PASSWORD STATE.json   puts data in, records what the server answered
  upgrade_data.py link     HOST PORT ADMIN_PASSWORD STATE.json   an export download link, right before the upgrade
  upgrade_data.py download HOST PORT ADMIN_PASSWORD STATE.json   that link, right after the upgrade: works once
  upgrade_data.py verify   HOST PORT ADMIN_PASSWORD STATE.json   checks it all again (exit 1 on the first failure)
fill: two users (read-write, read-only), logins with refresh tokens, a failed login, two app bundle versions
(the second activated), 100 records and 100 observations pushed by the read-write user, three attachments;
and where the previous release serves them (CONTRACT.md section 8 and 9; probed, not assumed from a version
number): a record pushed twice (its history), a record referencing an attachment, a provisioned device user,
a logout (its access and refresh token revoked), a CSV export, then the server's own lists of devices (from
the pushes and from a pull with a client_id), attachments and audit events.
link: a one-time CSV download link (it lives 60 s, so it is made after everything else, just before the
upgrade), checked with HEAD, which does not use it.
download: the link downloads once, the same CSV as the direct export before the upgrade, and then never again.
verify: the attachments first (nginx must serve them with the new snippet at once), the devices before any
sync request could touch them, the audit events, the admin views of the records and attachments, the
revoked tokens, the provisioned user; then every record's id, hash, change id and data, the users, the bundle
versions, the active manifest's hash, old passwords, the old access and refresh tokens, an idempotent replay
of the old pushes, and a new push and pull.
What was there before must be there after value for value; a newer server may add fields and events, never
change or drop one.
"""
import hashlib
import http.client
import io
import json
import os
import ssl
import sys
import time
import urllib.parse
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
    call.headers = dict((k.lower(), v) for k, v in resp.getheaders())
    return resp.status, doc, payload


def expect(what, ok, detail=""):
    if not ok:
        print(f"FAIL  {what}: {detail}")
        sys.exit(1)
    print(f"ok    {what}")


def ok(method, path, body=None, token=None, raw=None, ctype=None, what=None, status_wanted=200):
    status, doc, payload = call(method, path, body, token, raw, ctype)
    expect(what or f"{method} {path}: {status_wanted}", status == status_wanted, f"{status} {payload[:300]!r}")
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


def list_all(path, key, token):
    """Every item of an admin list route (section 8: newest first, paged by an opaque cursor)."""
    items, cursor = [], None
    while True:
        url = path + "?limit=500" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
        page = ok("GET", url, token=token, what=f"GET {path}" + (" (next page)" if cursor else ""))
        items += page[key]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def differences(before, after, where="", out=None):
    """Where AFTER differs from BEFORE: every key of an object, every item of an array, every value.
    Keys AFTER has beyond BEFORE's are no difference (a newer server may add fields)."""
    out = [] if out is None else out
    if isinstance(before, dict) and isinstance(after, dict):
        for k, v in before.items():
            if k not in after:
                out.append(f"{where}.{k} missing")
            else:
                differences(v, after[k], f"{where}.{k}", out)
    elif isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            out.append(f"{where}: {len(before)} items before, {len(after)} after")
        for i, (b, a) in enumerate(zip(before, after)):
            differences(b, a, f"{where}[{i}]", out)
    elif before != after or type(before) is not type(after):
        out.append(f"{where}: {before!r} before, {after!r} after")
    return out


def expect_same(what, before, after):
    diff = differences(before, after)
    expect(what, not diff, "; ".join(diff[:5]))


def zip_digests(payload):
    with zipfile.ZipFile(io.BytesIO(payload)) as z:
        return {name: hashlib.sha256(z.read(name)).hexdigest() for name in z.namelist()}


def probe(method, path, body=None, token=None):
    """Whether the running server has this route: a probe that names no resource gets 404 only when
    the route is unknown (0.1.0 has no admin API, for example)."""
    status, _, _ = call(method, path, body, token)
    return status != 404


def snapshot(admin, state):
    snap = {
        "records": pull_all(admin),
        "users": ok("GET", "/users", token=admin, what="GET /users"),
        "versions": ok("GET", "/app-bundle/versions", token=admin, what="GET /app-bundle/versions"),
        "manifest_hash": ok("GET", "/app-bundle/manifest", token=admin, what="GET /app-bundle/manifest")["hash"],
    }
    return snap


def admin_views(admin, features, state):
    """The section 8 views of what fill put in, in the order verify must read them (devices first)."""
    views = {}
    if features.get("devices"):
        views["devices"] = list_all("/admin/devices", "devices", admin)
    if features.get("admin_records"):
        views["admin_records"] = {rid: ok("GET", "/admin/records/" + rid, token=admin, what=f"GET /admin/records/{rid}")
                                  for rid in state["admin_record_ids"]}
    if features.get("admin_attachments"):
        views["admin_attachments"] = list_all("/admin/attachments", "attachments", admin)
    if features.get("audit"):
        views["audit"] = list_all("/admin/audit", "events", admin)
    return views


def overview_when(admin, records, what):
    """GET /admin/overview once its figures (up to 10 s old by contract) count RECORDS records."""
    deadline = time.time() + 15
    while True:
        status, doc, payload = call("GET", "/admin/overview", token=admin)
        if status != 200:
            expect(what + ": 200", False, f"{status} {payload[:300]!r}")
        if doc.get("counts", {}).get("records") == records:
            print(f"ok    {what}")
            return doc
        if time.time() > deadline:
            expect(what + f": counts.records reaches {records} within 15 s", False, json.dumps(doc)[:300])
        time.sleep(0.5)


def overview_figures(doc):
    """What the upgrade must not change: the counts and, per form type, records and tombstones."""
    counts = {k: doc["counts"][k] for k in ("users", "devices", "records", "deleted_records", "attachments",
                                            "attachment_bytes")}
    return {"counts": counts, "form_types": {f["form_type"]: [f["records"], f["deleted"]] for f in doc["form_types"]}}


def revoked(token):
    status, _, _ = call("GET", "/app-bundle/versions", token=token)
    return status == 401


if mode == "fill":
    admin = login("admin", admin_pw)["token"]
    features = {
        "audit": probe("GET", "/admin/audit?limit=1", token=admin),
        "devices": probe("GET", "/admin/devices?limit=1", token=admin),
        "admin_records": probe("GET", "/admin/records?limit=1", token=admin),
        "admin_attachments": probe("GET", "/admin/attachments?limit=1", token=admin),
        "provision": probe("POST", "/admin/devices/provision", {}, admin),
        "logout": probe("POST", "/auth/logout", {}),
        "links": probe("POST", "/dataexport/links", {"format": "none"}, admin),
        "overview": probe("GET", "/admin/overview", token=admin),
    }
    print("      the previous release serves: " + (", ".join(k for k, v in features.items() if v) or "none of")
          + " (section 8/9 routes)" + ("; not: " + ", ".join(k for k, v in features.items() if not v)
                                       if not all(features.values()) else ""))
    users = {"field1": ("read-write", "field1-password"), "viewer1": ("read-only", "viewer1-password")}
    for name, (role, pw) in users.items():
        status, _, payload = call("POST", "/users/create", {"username": name, "password": pw, "role": role}, admin)
        expect(f"create user {name}", status == 201, f"{status} {payload[:200]!r}")
    field = login("field1", "field1-password")
    viewer = login("viewer1", "viewer1-password")
    ok("POST", "/auth/login", {"username": "viewer1", "password": "not-the-password"}, status_wanted=401,
       what="a failed login (wrong password): 401")
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

    def push(n, client_id, items):
        body = {"transmission_id": f"upgradepush{n:05d}", "client_id": client_id, "records": items}
        answer = ok("POST", "/sync/push", body, field["token"], what=f"push {len(items)} records ({client_id})")
        expect(f"all {len(items)} applied", answer.get("success_count") == len(items)
               and not answer.get("failed_records"), json.dumps(answer)[:300])
        pushes.append({"body": body, "success_count": answer["success_count"]})

    for n, items in enumerate((records, observations)):
        push(n, f"formulus-upgrade-{n}", items)
    attachments = {}
    for i in range(3):
        data = os.urandom(3000 + 1000 * i)
        att = f"{uuid.uuid4()}.jpg"
        body, ctype = multipart("file", "photo.jpg", "image/jpeg", data)
        ok("PUT", "/attachments/" + att, token=field["token"], raw=body, ctype=ctype, what=f"upload attachment {i}")
        attachments[att] = hashlib.sha256(data).hexdigest()
    state = {"features": features, "field": field, "viewer": viewer, "attachments": attachments,
             "admin_record_ids": []}

    # Section 8's data, where the previous release keeps it.
    # rec-000 a second time (its first version goes to the history) and a record naming an attachment.
    first_att = sorted(attachments)[0]
    second = dict(records[0], data={"core_id": "c0", "answer": 1000, "note": "second version"})
    referencing = {"id": "rec-att", "schemaType": "survey", "schemaVersion": "1",
                   "data": {"core_id": "att", "photo": first_att}}
    push(2, "formulus-upgrade-0", [second, referencing])
    state["admin_record_ids"] = ["rec-000", "rec-att"]
    state["pushes"] = pushes
    if features["provision"]:
        prov = ok("POST", "/admin/devices/provision", {"username": "tablet1", "role": "read-write",
                                                       "server_url": "https://sync.example.org"}, admin,
                  what="provision device user tablet1")
        expect("a password and the FRMLS string", prov.get("password") and prov.get("frmls", "").startswith("FRMLS:"),
               prov)
        state["provisioned"] = {"username": "tablet1", "password": prov["password"]}
        login("tablet1", prov["password"])
    if features["logout"]:
        # A login of its own (viewer1's second): logging out revokes only this login's chain and access token.
        leaving = login("viewer1", "viewer1-password")
        ok("POST", "/auth/logout", {"refreshToken": leaving["refreshToken"]}, leaving["token"], status_wanted=204,
           what="POST /auth/logout: 204")
        deadline = time.time() + 7  # section 2: stops working within 5 seconds
        while not revoked(leaving["token"]) and time.time() < deadline:
            time.sleep(0.5)
        expect("the logged-out access token is refused (401)", revoked(leaving["token"]))
        ok("POST", "/auth/refresh", {"refreshToken": leaving["refreshToken"]}, status_wanted=401,
           what="the logged-out refresh token is refused (401)")
        state["logged_out"] = leaving
    if features["links"]:
        # The direct export, which the download link must reproduce after the upgrade.
        payload = ok("GET", "/dataexport/csv", token=admin, what="GET /dataexport/csv")
        state["export"] = zip_digests(payload)
        expect("the export holds survey.csv", "survey.csv" in state["export"], state["export"])
    state.update(snapshot(admin, state))
    state.update(admin_views(admin, features, state))
    expect("the snapshot holds the 201 records", len(state["records"]) >= 201, len(state["records"]))
    if features["overview"]:
        state["overview"] = overview_figures(overview_when(admin, len(state["records"]), "GET /admin/overview"))
        expect("the overview counts the users, devices, 3 attachments, the form type",
               state["overview"]["counts"]["users"] == len(state["users"])
               and state["overview"]["counts"]["attachments"] == 3
               and state["overview"]["form_types"].get("survey") == [len(state["records"]), 0],
               state["overview"])
    expect("bundle versions 0002 (active) and 0001", state["versions"] == {"versions": ["0002 *", "0001"]},
           state["versions"])
    if "admin_records" in state:
        history = state["admin_records"]["rec-000"]["history"]
        expect("rec-000's history holds its first version", len(history) == 1
               and history[0]["data"] == records[0]["data"], json.dumps(history)[:300])
        refs = state["admin_records"]["rec-att"]["attachments"]
        expect("rec-att names its attachment, present", refs == [{"attachment_id": first_att, "present": True}], refs)
    if "admin_attachments" in state:
        listed = {a["attachment_id"]: a for a in state["admin_attachments"]}
        expect("the three attachments listed, with their sha256 and rec-att's reference",
               {k: listed.get(k, {}).get("sha256") for k in attachments} == attachments
               and listed[first_att]["referenced_by"] == ["rec-att"], json.dumps(state["admin_attachments"])[:400])
    if "devices" in state:
        devices = {d["client_id"]: d for d in state["devices"]}
        expect("devices: the two pushers and the puller (cursor kept)",
               devices.get("formulus-upgrade-0", {}).get("last_push_at")
               and devices.get("formulus-upgrade-1", {}).get("last_push_at")
               and devices.get("upgrade-puller", {}).get("last_pull_at")
               and devices["upgrade-puller"].get("cursor") is not None, json.dumps(state["devices"])[:400])
    if "audit" in state:
        actions = {e["action"] for e in state["audit"]}
        wanted = {"user.create", "login.failed", "bundle.push", "bundle.switch"}
        wanted |= {"device.provision"} if features["provision"] else set()
        wanted |= {"export.csv"} if features["links"] else set()
        expect(f"{len(state['audit'])} audit events, among them " + ", ".join(sorted(wanted)),
               wanted <= actions, sorted(actions))
    json.dump(state, open(state_file, "w"))
    sys.exit(0)

state = json.load(open(state_file))
features = state.get("features", {})

if mode == "link":
    if not features.get("links"):
        print("ok    the previous release has no download links: nothing to carry over")
        sys.exit(0)
    admin = login("admin", admin_pw)["token"]
    link = ok("POST", "/dataexport/links", {"format": "csv"}, admin, status_wanted=201,
              what="POST /dataexport/links (csv): 201")
    created = time.time()
    split = urllib.parse.urlsplit(link["url"])
    path = split.path + "?" + split.query
    status, _, payload = call("HEAD", path)
    expect("HEAD of the link: 200 (checks it without using it)", status == 200, f"{status} {payload[:200]!r}")
    state["link"] = {"path": path, "created": created, "expires_at": link["expires_at"]}
    # The link's creation is an audit event of its own (export.csv): it belongs to the events before.
    events = list_all("/admin/audit", "events", admin) if features.get("audit") else []
    if features.get("audit"):
        expect("the link's creation audited (export.csv, newest)", events[0]["action"] == "export.csv"
               and len(events) == len(state["audit"]) + 1, json.dumps(events[:2])[:300])
        state["audit"] = events
    json.dump(state, open(state_file, "w"))
    sys.exit(0)

if mode == "download":
    if "link" not in state:
        print("ok    no download link was made before the upgrade")
        sys.exit(0)
    link = state["link"]
    age = time.time() - link["created"]
    status, _, payload = call("GET", link["path"])
    expect(f"the link made {age:.0f} s before (it lives 60 s), across the upgrade: 200, an attachment",
           status == 200 and call.headers.get("content-disposition", "").startswith("attachment"),
           f"{status} {payload[:200]!r}")
    expect("its CSV byte for byte as the direct export before the upgrade", zip_digests(payload) == state["export"],
           f"{zip_digests(payload)} != {state['export']}")
    status, doc, payload = call("GET", link["path"])
    expect("a second use: 404 problem", status == 404 and call.headers.get("content-type", "").startswith(
        "application/problem+json"), f"{status} {payload[:200]!r}")
    sys.exit(0)

field = state["field"]
for att, digest in state["attachments"].items():
    status, _, payload = call("GET", "/attachments/" + att, token=field["token"])
    expect(f"attachment {att} served by nginx, bytes unchanged",
           status == 200 and hashlib.sha256(payload).hexdigest() == digest, f"{status} {payload[:200]!r}")
status, _, payload = call("GET", "/app-bundle/versions", token=field["token"])
expect("the access token issued before the upgrade still works", status == 200, f"{status} {payload[:200]!r}")
admin = login("admin", admin_pw)["token"]
# Before any sync request, which would update the devices' presence.
views = admin_views(admin, features, state)
if "devices" in state:
    expect_same(f"the {len(state['devices'])} devices, value for value (times, cursor, behind, counts)",
                state["devices"], views["devices"])
if "admin_records" in state:
    for rid, before in state["admin_records"].items():
        expect_same(f"GET /admin/records/{rid}: the record, its history ({len(before['history'])}) and "
                    f"attachment references as before", before, views["admin_records"][rid])
if "admin_attachments" in state:
    expect_same(f"GET /admin/attachments: the {len(state['admin_attachments'])} attachments with their "
                "sizes, hashes, uploaders and references as before", state["admin_attachments"],
                views["admin_attachments"])
if "audit" in state:
    before_ids = [e["id"] for e in state["audit"]]
    kept = [e for e in views["audit"] if e["id"] in set(before_ids)]
    expect_same(f"the {len(before_ids)} audit events, value for value and in order "
                f"({len(views['audit']) - len(kept)} newer ones)", state["audit"], kept)
if "logged_out" in state:
    expect("the access token revoked by the logout is still refused (401)", revoked(state["logged_out"]["token"]))
    ok("POST", "/auth/refresh", {"refreshToken": state["logged_out"]["refreshToken"]}, status_wanted=401,
       what="the refresh token revoked by the logout is still refused (401)")
if "provisioned" in state:
    login(state["provisioned"]["username"], state["provisioned"]["password"])
login("field1", "field1-password")
login("viewer1", "viewer1-password")
ok("POST", "/auth/login", {"username": "viewer1", "password": "not-the-password"}, status_wanted=401,
   what="a wrong password is still refused (401)")
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
if "devices" in state:
    devices = {d["client_id"]: d for d in list_all("/admin/devices", "devices", admin)}
    expect("the new version records a new device (formulus-new)", "formulus-new" in devices, sorted(devices))
if "overview" in state:
    # The figures of before plus what verify added: one record (survey) and one device (formulus-new).
    want = json.loads(json.dumps(state["overview"]))
    want["counts"]["records"] += 1
    want["counts"]["devices"] += 1
    want["form_types"]["survey"][0] += 1
    got = overview_figures(overview_when(admin, want["counts"]["records"], "GET /admin/overview"))
    expect_same("the overview's counts as before, plus the new record and device", want, got)
