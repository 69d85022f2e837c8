// Records: filters (kept in the address, so a reload or re-sign-in carries on) and a paged table.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, field, pager, link, toRfc3339 } from "../dom.js";

const FILTERS = ["form_type", "client_id", "username", "deleted", "changed_after", "changed_before"];

export async function render(main, route) {
  const q = route.query;
  const input = (name, label, attrs = {}) => {
    const el = h("input", { name, value: q.get(name) || "", autocapitalize: "none", spellcheck: "false", ...attrs });
    return [el, field(label, el)];
  };
  const [formType, f1] = input("form_type", "Form type");
  const [client, f2] = input("client_id", "Device");
  const [user, f3] = input("username", "User");
  const deleted = h("select", { name: "deleted" },
    h("option", { value: "" }, "all"), h("option", { value: "false" }, "not deleted"), h("option", { value: "true" }, "deleted only"));
  deleted.value = q.get("deleted") || "";
  const [after, f5] = input("changed_after", "Changed after", { type: "datetime-local", value: localOf(q.get("changed_after")) });
  const [before, f6] = input("changed_before", "Changed before", { type: "datetime-local", value: localOf(q.get("changed_before")) });
  const list = h("div", loading());
  const pages = pager((cursor) => load(cursor));
  const filters = () => ({
    form_type: formType.value.trim(), client_id: client.value.trim(), username: user.value.trim(),
    deleted: deleted.value, changed_after: toRfc3339(after.value), changed_before: toRfc3339(before.value),
  });
  main.append(h("h1", "Records"),
    h("form.filters", {
      role: "search", "aria-label": "Filter records",
      onsubmit: (e) => { e.preventDefault(); route.setQuery(filters()); pages.reset(); load(null); },
    }, f1, f2, f3, field("Deleted", deleted), f5, f6, h("button.primary", { type: "submit" }, "Filter")),
    list, pages.el);

  async function load(cursor) {
    clear(list, loading());
    try {
      const query = Object.fromEntries(Object.entries(filters()).filter(([k, v]) => FILTERS.includes(k) && v));
      const res = await api.getJSON("/admin/records", { ...query, cursor });
      if (route.stale()) return;
      const rows = res.records || [];
      pages.update(res.next_cursor);
      if (!rows.length) return clear(list, empty(cursor ? "No more records." : "No records match."));
      clear(list, table([
        { label: "Record", cell: (r) => link("/records/" + encodeURIComponent(idOf(r)), idOf(r)) },
        { label: "Form type", cell: (r) => String(r.form_type ?? r.schemaType ?? "") },
        { label: "Form version", cell: (r) => String(r.form_version ?? r.schemaVersion ?? "") },
        { label: "Synced", cell: (r) => when(r.synced_at ?? r.last_modified) },
        { label: "By", cell: (r) => String(r.last_modified_by ?? "") },
        { label: "Device", cell: (r) => String(r.origin_client_id ?? "") },
        { label: "Change", cell: (r) => String(r.version ?? r.change_id ?? "") },
        { label: "Deleted", cell: (r) => (r.deleted ? "deleted" : "") },
      ], rows, { caption: "Records, newest change first" }));
    } catch (err) {
      clear(list, errorBox(err));
    }
  }
  await load(null);
}

export function idOf(r) { return String(r.observation_id ?? r.id ?? ""); }

function localOf(rfc) {
  if (!rfc) return "";
  const d = new Date(rfc);
  if (isNaN(d)) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
