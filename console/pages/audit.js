// Audit log: filter by actor, action and time; page through it.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, field, pager, toRfc3339 } from "../dom.js";

const ACTIONS = ["login.failed", "login.throttled", "user.create", "user.delete", "user.role", "user.reset_password",
  "user.change_password", "auth.refresh_reuse", "bundle.push", "bundle.switch", "attachment.delete",
  "device.provision", "export.csv", "export.parquet"];

export async function render(main, route) {
  const q = route.query;
  const actor = h("input", { name: "actor", value: q.get("actor") || "", autocapitalize: "none", spellcheck: "false" });
  const action = h("input", { name: "action", value: q.get("action") || "", list: "audit-actions", autocomplete: "off" });
  const after = h("input", { name: "after", type: "datetime-local" });
  const before = h("input", { name: "before", type: "datetime-local" });
  const list = h("div", loading());
  const pages = pager((cursor) => load(cursor));
  const filters = () => ({ actor: actor.value.trim(), action: action.value.trim(), after: toRfc3339(after.value), before: toRfc3339(before.value) });
  main.append(h("h1", "Audit log"),
    h("form.filters", { role: "search", "aria-label": "Filter the audit log", onsubmit: (e) => {
      e.preventDefault(); route.setQuery(filters()); pages.reset(); load(null);
    } }, field("Actor", actor), field("Action", action), h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a }))),
    field("After", after), field("Before", before), h("button.primary", { type: "submit" }, "Filter")),
    list, pages.el);

  async function load(cursor) {
    clear(list, loading());
    try {
      const res = await api.getJSON("/admin/audit", { ...filters(), cursor });
      if (route.stale()) return;
      const events = res.events || [];
      pages.update(res.next_cursor);
      if (!events.length) return clear(list, empty(cursor ? "No more events." : "No events match."));
      clear(list, table([
        { label: "When", cell: (e) => when(e.at) },
        { label: "Actor", cell: (e) => String(e.actor ?? "") },
        { label: "Action", cell: (e) => h("code", String(e.action ?? "")) },
        { label: "Target", cell: (e) => String(e.target ?? "") },
        { label: "Detail", cell: (e) => detailText(e.detail) },
        { label: "Address", cell: (e) => String(e.address ?? "") },
        { label: "Request", cell: (e) => h("code.hash", String(e.request_id ?? "")) },
      ], events, { caption: "Audit events, newest first" }));
    } catch (err) {
      clear(list, errorBox(err));
    }
  }
  await load(null);
}

function detailText(d) {
  if (d === null || d === undefined) return "";
  return h("span.detail", typeof d === "string" ? d : JSON.stringify(d));
}
