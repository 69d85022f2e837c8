// Users: list and search, create, change role, reset a password, delete (confirmed);
// change your own password.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, field, confirmDialog, notice, showDialog } from "../dom.js";

const ROLES = ["read-only", "read-write", "admin"];

export async function render(main) {
  const status = h("div", { "aria-live": "polite" });
  const list = h("div", loading());
  const search = h("input", { type: "search", name: "search", autocapitalize: "none", spellcheck: "false" });
  let all = [];
  search.addEventListener("input", () => draw());
  main.append(h("h1", "Users"), status, createForm(), h("h2", "All users"),
    h("div.filters", { role: "search" }, field("Search users", search)), list, ownPasswordForm());

  function draw() {
    const term = search.value.trim().toLowerCase();
    const rows = all.filter((u) => !term || String(u.username).toLowerCase().includes(term) || String(u.role).includes(term));
    if (!all.length) return clear(list, empty("No users."));
    if (!rows.length) return clear(list, empty("No user matches."));
    const me = api.currentUser();
    clear(list, table([
      { label: "User", cell: (u) => [String(u.username), me && u.username === me.username ? h("span.muted", " (you)") : null] },
      { label: "Role", cell: (u) => roleControl(u) },
      { label: "Created", cell: (u) => when(u.createdAt) },
      { label: "Actions", cell: (u) => h("div.actions",
        h("button", { type: "button", "aria-label": "Reset password of " + u.username, onclick: () => resetPassword(u) }, "Reset password"),
        h("button.danger", { type: "button", "aria-label": "Delete " + u.username, onclick: () => remove(u) }, "Delete")) },
    ], rows, { caption: "Users" }));
  }

  async function load() {
    try {
      all = (await api.getJSON("/users")) || [];
      draw();
    } catch (err) { clear(list, errorBox(err)); }
  }

  function roleControl(u) {
    const sel = h("select", { "aria-label": "Role of " + u.username }, ROLES.map((r) => h("option", { value: r }, r)));
    sel.value = u.role;
    const btn = h("button", { type: "button", "aria-label": "Change role of " + u.username, onclick: async () => {
      if (sel.value === u.role) return;
      if (!(await confirmDialog(`Change the role of ${u.username} from ${u.role} to ${sel.value}? Their sessions end.`, { confirm: "Change role" }))) {
        sel.value = u.role; return;
      }
      try {
        const res = await api.postJSON("/admin/users/role", { username: u.username, role: sel.value });
        clear(status, notice(`${res.username} is now ${res.role}.`));
        await load();
      } catch (err) { sel.value = u.role; clear(status, errorBox(err)); }
    } }, "Change role");
    return h("div.actions", sel, btn);
  }

  async function resetPassword(u) {
    const pw = h("input", { type: "password", name: "newPassword", minLength: 8, required: true, autocomplete: "new-password" });
    const err = h("div", { "aria-live": "polite" });
    const dlg = showDialog("Reset password of " + u.username,
      h("form", { onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api.postJSON("/users/reset-password", { username: u.username, newPassword: pw.value });
          dlg.close();
          clear(status, notice(`Password of ${u.username} reset; their sessions have ended.`));
        } catch (x) { clear(err, errorBox(x)); }
      } }, field("New password", pw, "At least 8 characters"), h("button.primary", { type: "submit" }, "Set password"), err));
  }

  async function remove(u) {
    if (!(await confirmDialog(`Delete user ${u.username}? Their sessions end at once.`, { confirm: "Delete" }))) return;
    try {
      await api.del("/users/" + api.seg(u.username));
      clear(status, notice(`User ${u.username} deleted.`));
      await load();
    } catch (err) { clear(status, errorBox(err)); }
  }

  function createForm() {
    const name = h("input", { name: "username", required: true, maxLength: 64, pattern: "[A-Za-z0-9._@\\-]+", autocapitalize: "none", spellcheck: "false", autocomplete: "off" });
    const pw = h("input", { name: "password", type: "password", required: true, minLength: 8, autocomplete: "new-password" });
    const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r)));
    role.value = "read-write";
    const err = h("div", { "aria-live": "polite" });
    return h("details.panel", h("summary", "Create a user"), h("form", { "aria-label": "Create a user", onsubmit: async (e) => {
      e.preventDefault();
      clear(err);
      try {
        const res = await api.postJSON("/users/create", { username: name.value, password: pw.value, role: role.value });
        clear(status, notice(`User ${res.username} created as ${res.role}.`));
        name.value = ""; pw.value = "";
        await load();
      } catch (x) { clear(err, errorBox(x)); }
    } }, field("New username", name, "Letters, digits and . _ @ -"), field("New user's password", pw, "At least 8 characters"),
    field("New user's role", role), h("button.primary", { type: "submit" }, "Create user"), err));
  }

  function ownPasswordForm() {
    const cur = h("input", { type: "password", name: "currentPassword", required: true, autocomplete: "current-password" });
    const pw = h("input", { type: "password", name: "newPassword", required: true, minLength: 8, autocomplete: "new-password" });
    const out = h("div", { "aria-live": "polite" });
    return h("section.panel", h("h2", "Change your own password"), h("form", { "aria-label": "Change your own password", onsubmit: async (e) => {
      e.preventDefault();
      clear(out);
      try {
        await api.changeOwnPassword(cur.value, pw.value);
        cur.value = ""; pw.value = "";
        clear(out, notice("Your password has been changed; your other sessions have ended."));
      } catch (x) { clear(out, errorBox(x)); }
    } }, field("Current password", cur), field("New password", pw, "At least 8 characters"),
    h("button.primary", { type: "submit" }, "Change password"), out));
  }

  await load();
}
