// Overview: health (each database node), the active bundle, counts, form types, devices seen.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, fmtBytes, link, notice } from "../dom.js";

export async function render(main) {
  const body = h("div", loading());
  main.append(h("h1", "Overview"), body);
  const [o, health, recent] = await Promise.all([
    api.getJSON("/admin/overview"),
    api.getJSON("/health").catch((e) => ({ status: "error", error: e.message })),
    // Most recently seen first: the first page holds the last day's devices (up to 100).
    api.getJSON("/admin/devices").catch(() => ({ devices: [] })),
  ]);
  const dayAgo = Date.now() - 86400 * 1000;
  const seen = (recent.devices || []).filter((d) => d.last_seen && Date.parse(d.last_seen) >= dayAgo);
  const c = o.counts || {};
  const nodes = (o.database && o.database.nodes) || [];
  clear(body,
    h("section.cards", { "aria-label": "Summary" },
      card("Server", health.status === "ok" ? "healthy" : "unhealthy", o.server ? "version " + (o.server.version || "") : ""),
      card("Database", (o.database && o.database.status) || "unknown", nodes.length + (nodes.length === 1 ? " node" : " nodes")),
      card("Active app bundle", o.active_bundle_version || "none", o.active_bundle_version ? "" : "push one under App bundle"),
      card("Devices seen in 24 h", String(c.devices_seen_24h ?? 0), `of ${c.devices ?? 0} devices`),
      card("Records", String(c.records ?? 0), `${c.deleted_records ?? 0} deleted`),
      card("Attachments", String(c.attachments ?? 0), fmtBytes(c.attachment_bytes ?? 0)),
      card("Users", String(c.users ?? 0), ""),
      card("Current change", String(o.current_version ?? 0), "the change counter")),
    h("h2", "Database nodes"),
    nodes.length ? table([
      { label: "Address", cell: (n) => String(n.address ?? "") },
      { label: "State", cell: (n) => h("span.state", String(n.state ?? "")) },
    ], nodes, { caption: "Database nodes" }) : empty("No database node reported."),
    h("h2", "Records per form type"),
    (o.form_types || []).length ? table([
      { label: "Form type", cell: (f) => link("/records?form_type=" + encodeURIComponent(f.form_type), String(f.form_type)) },
      { label: "Records", cell: (f) => String(f.records ?? 0) },
      { label: "Deleted", cell: (f) => String(f.deleted ?? 0) },
      { label: "Last synced", cell: (f) => when(f.last_synced_at) },
    ], o.form_types, { caption: "Records per form type" }) : empty("No records yet: nothing has been synced."),
    h("h2", "Devices seen in the last 24 hours"),
    seen.length ? table([
      { label: "Device", cell: (d) => String(d.client_id) },
      { label: "User", cell: (d) => String(d.username ?? "") },
      { label: "Last seen", cell: (d) => when(d.last_seen) },
      { label: "Behind", cell: (d) => (d.cursor === null || d.cursor === undefined ? "never pulled" : `${d.behind ?? 0} changes`) },
    ], seen, { caption: "Devices seen in the last 24 hours" }) : empty("No device has synced in the last 24 hours."),
    o.server && o.server.build ? notice(`Build ${o.server.build.commit || ""} of ${o.server.build.build_time || ""}`) : null);
}

function card(title, value, sub) {
  return h("div.card", h("h2", title), h("p.value", value), sub ? h("p.sub", sub) : null);
}
