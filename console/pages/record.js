// One record: its data as a tree, geolocation, attachments (raster images previewed
// from blob: URLs fetched with the token, everything else downloaded) and its history
// with what changed field by field between consecutive versions.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, saveBlob, isPreviewable, blobImage, link } from "../dom.js";

export async function render(main, route) {
  const id = route.id;
  main.append(h("p", link("/records", "← Records")), h("h1", "Record ", h("code", id)));
  const body = h("div", loading());
  main.append(body);
  const res = await api.getJSON("/admin/records/" + api.seg(id));
  const r = res.record || {};
  const history = res.history || [];
  clear(body,
    h("dl.facts",
      h("dt", "Form type"), h("dd", String(r.form_type ?? r.schemaType ?? "")),
      h("dt", "Form version"), h("dd", String(r.form_version ?? r.schemaVersion ?? "")),
      h("dt", "Change"), h("dd", String(r.version ?? r.change_id ?? "")),
      h("dt", "Synced"), h("dd", when(r.synced_at ?? r.last_modified)),
      h("dt", "Created on the device"), h("dd", when(r.created_at)),
      h("dt", "Updated on the device"), h("dd", when(r.updated_at)),
      h("dt", "Last changed by"), h("dd", String(r.last_modified_by ?? "")),
      h("dt", "Device"), h("dd", String(r.origin_client_id ?? "")),
      h("dt", "Deleted"), h("dd", r.deleted ? "yes (tombstone)" : "no"),
      h("dt", "Hash"), h("dd", h("code.wrap", String(r.hash ?? "")))),
    h("h2", "Data"), tree(r.data),
    h("h2", "Geolocation"), geolocation(r.geolocation),
    h("h2", "Attachments"), attachmentList(res.attachments || []),
    h("h2", "History"), historyView(r, history));
}

/** A readable tree of any JSON value; every key and value is text. */
export function tree(value) {
  if (value === null || typeof value !== "object") return h("span.leaf", { class: "leaf t-" + typeOf(value) }, scalar(value));
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  if (!entries.length) return h("span.leaf", Array.isArray(value) ? "[] (empty list)" : "{} (empty)");
  return h("ul.tree", entries.map(([k, v]) => h("li",
    v !== null && typeof v === "object"
      ? h("details", { open: true }, h("summary", h("span.key", k), h("span.muted", Array.isArray(v) ? ` [${v.length}]` : "")), tree(v))
      : [h("span.key", k), ": ", tree(v)])));
}

function typeOf(v) { return v === null ? "null" : typeof v; }
function scalar(v) { return v === null ? "null" : typeof v === "string" ? v : JSON.stringify(v); }

function geolocation(g) {
  if (!g) return empty("No location recorded.");
  const row = (label, v) => [h("dt", label), h("dd", v === null || v === undefined ? "—" : String(v))];
  return h("dl.facts", row("Latitude", g.latitude), row("Longitude", g.longitude), row("Accuracy (m)", g.accuracy),
    row("Altitude (m)", g.altitude), row("Altitude accuracy (m)", g.altitude_accuracy));
}

function attachmentList(list) {
  if (!list.length) return empty("This record names no attachment.");
  return h("ul.attachments", list.map((a) => {
    const li = h("li", h("code", String(a.attachment_id)), " ");
    if (!a.present) { li.append(h("span.muted", "not uploaded yet")); return li; }
    const slot = h("div.slot", loading("Loading attachment…"));
    li.append(slot);
    api.getBlob("/attachments/" + api.seg(a.attachment_id)).then((blob) => {
      const dl = h("button", { type: "button", onclick: () => saveBlob(blob, a.attachment_id) }, "Download " + a.attachment_id);
      clear(slot, isPreviewable(blob.type) ? blobImage(blob, "Attachment " + a.attachment_id) : null, dl);
    }).catch((err) => clear(slot, errorBox(err)));
    return li;
  }));
}

/** data flattened to dot paths: {"a.b": 1, "list": "[1,2]"} */
export function flatten(value, prefix = "", out = {}) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (!keys.length && prefix) out[prefix] = "{}";
    for (const k of keys) flatten(value[k], prefix ? prefix + "." + k : k, out);
  } else if (prefix) {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return out;
}

export function diff(older, newer) {
  const a = flatten(older || {}), b = flatten(newer || {});
  const changes = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!(k in a)) changes.push({ field: k, kind: "added", to: b[k] });
    else if (!(k in b)) changes.push({ field: k, kind: "removed", from: a[k] });
    else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) changes.push({ field: k, kind: "changed", from: a[k], to: b[k] });
  }
  return changes.sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0));
}

function changeList(older, newer) {
  const d = diff(older.data, newer.data);
  const items = d.map((c) => h("li", { class: "change " + c.kind }, h("span.key", c.field), " ", c.kind,
    c.kind !== "added" ? [": ", h("del", scalar(c.from))] : null,
    c.kind !== "removed" ? [c.kind === "changed" ? " → " : ": ", h("ins", scalar(c.to))] : null));
  if (!!older.deleted !== !!newer.deleted) items.push(h("li.change", newer.deleted ? "deleted" : "restored"));
  return items.length ? h("ul.changes", items) : h("span.muted", "no change in data");
}

function historyView(current, history) {
  if (!history.length) return empty("No earlier versions: this record has not been changed since it was first synced (or its history has expired).");
  // Each row: an earlier version and what the next newer one changed relative to it.
  const newerOf = (i) => (i === 0 ? { data: current.data, deleted: current.deleted } : history[i - 1]);
  const rows = history.map((v, i) => ({ v, i }));
  return table([
    { label: "Change", cell: ({ v }) => String(v.change_id ?? "") },
    { label: "Synced", cell: ({ v }) => when(v.synced_at) },
    { label: "By", cell: ({ v }) => String(v.modified_by ?? "") },
    { label: "Device", cell: ({ v }) => String(v.client_id ?? "") },
    { label: "Replaced by", cell: ({ v }) => String(v.replaced_by ?? "") },
    { label: "What the next version changed", cell: ({ v, i }) => changeList(v, newerOf(i)) },
    { label: "Data", cell: ({ v }) => h("details", h("summary", "Show data"), tree(v.data)) },
  ], rows, { caption: "Earlier versions, newest first" });
}
