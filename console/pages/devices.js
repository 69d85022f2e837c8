// Devices: every client id that pushed or pulled, sortable; provisioning a phone by QR.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, field, showDialog, pager } from "../dom.js";

export async function render(main) {
  const list = h("div", loading());
  const pages = pager((cursor) => load(cursor));
  main.append(h("h1", "Devices"), provisionForm(), h("h2", "Devices"), list, pages.el);

  async function load(cursor) {
    clear(list, loading());
    try {
      const res = await api.getJSON("/admin/devices", { cursor });
      const devices = res.devices || [];
      pages.update(res.next_cursor);
      if (!devices.length) return clear(list, empty("No device has synced yet. Provision one above; it appears here after its first sync."));
      const t = (k) => (d) => (d[k] ? Date.parse(d[k]) : null);
      clear(list, table([
        { label: "Device", cell: (d) => String(d.client_id), sort: (d) => String(d.client_id) },
        { label: "User", cell: (d) => String(d.username ?? ""), sort: (d) => String(d.username ?? "") },
        { label: "App generation", cell: (d) => String(d.generation ?? ""), sort: (d) => String(d.generation ?? "") },
        { label: "Last seen", cell: (d) => when(d.last_seen), sort: t("last_seen") },
        { label: "Last push", cell: (d) => when(d.last_push_at), sort: t("last_push_at") },
        { label: "Last pull", cell: (d) => when(d.last_pull_at), sort: t("last_pull_at") },
        { label: "Behind", cell: (d) => d.cursor === null || d.cursor === undefined ? "never pulled" : `${d.behind ?? 0} changes`, sort: (d) => d.behind ?? null },
        { label: "Pushes", cell: (d) => `${d.pushes ?? 0} (${d.records_pushed ?? 0} records)`, sort: (d) => d.pushes ?? 0 },
      ], devices, { caption: "Devices, most recently seen first", sortable: true }));
    } catch (err) {
      clear(list, errorBox(err));
    }
  }
  await load(null);
}

function provisionForm() {
  const user = h("input", { name: "username", required: true, list: "known-users", autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const users = h("datalist", { id: "known-users" });
  const role = h("select", { name: "role" }, h("option", { value: "read-write" }, "read-write"), h("option", { value: "read-only" }, "read-only"));
  const url = h("input", { name: "server_url", type: "url", placeholder: location.origin });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button.primary", { type: "submit" }, "Provision device");
  api.getJSON("/users").then((list) => {
    for (const u of list || []) if (u.role !== "admin") users.append(h("option", { value: String(u.username) }));
  }).catch(() => {});
  return h("details.panel", h("summary", "Provision a device"),
    h("form", {
      "aria-label": "Provision a device",
      onsubmit: async (e) => {
        e.preventDefault();
        button.disabled = true;
        clear(status);
        try {
          const res = await api.postJSON("/admin/devices/provision",
            { username: user.value, role: role.value, ...(url.value ? { server_url: url.value } : {}) });
          showCredentials(res);
        } catch (err) {
          clear(status, errorBox(err));
        } finally {
          button.disabled = false;
        }
      },
    },
    h("p", "Pick an existing field user (they get a new password) or name a new one; the app scans the QR code to configure itself."),
    field("User", user, "An existing non-admin user, or a new name"), users,
    field("Role", role),
    field("Server URL", url, "Optional; the address phones use to reach this server"),
    button, status));
}

function showCredentials(res) {
  // The QR code is the server's SVG shown as an image from a blob: URL: an SVG in
  // an <img> runs no script and is never part of the console's document.
  const svg = new Blob([String(res.qr_svg || "")], { type: "image/svg+xml" });
  const qrUrl = URL.createObjectURL(svg);
  const dlg = showDialog("Device provisioned",
    h("p.warning", { role: "alert" }, "Write the password down or scan the code now: it is shown only this once and cannot be shown again."),
    h("img.qr", { src: qrUrl, alt: "QR code that configures the app for " + String(res.username) }),
    h("dl.facts",
      h("dt", "User"), h("dd", String(res.username)),
      h("dt", "Password"), h("dd", h("code.secret", String(res.password))),
      h("dt", "Server"), h("dd", String(res.server_url))),
    h("details", h("summary", "Configuration string"), h("code.wrap", String(res.frmls))));
  dlg.addEventListener("close", () => URL.revokeObjectURL(qrUrl));
}
