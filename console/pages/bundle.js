// App bundle: upload with progress and per-file validation errors, the versions with
// who pushed them and when, activation (also the rollback), confirmed; the changes
// between any two versions at the level of forms and fields (from the server's
// GET /app-bundle/changes, which reports added and removed fields per form); the
// manifest with file and whole-bundle downloads.
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, field, fmtBytes, confirmDialog, notice, saveBlob } from "../dom.js";

export async function render(main, route) {
  const status = h("div", { "aria-live": "polite" });
  const versionsBox = h("div", loading());
  const changesBox = h("div");
  const manifestBox = h("div", loading());
  const from = h("select", { name: "from" });
  const to = h("select", { name: "to" });
  main.append(h("h1", "App bundle"), status, uploadForm(), h("h2", "Versions"), versionsBox,
    h("h2", "Changes between versions"),
    h("form.filters", { "aria-label": "Compare versions", onsubmit: (e) => { e.preventDefault(); compare(); } },
      field("From version", from), field("To version", to), h("button.primary", { type: "submit" }, "Compare")),
    changesBox, h("h2", "Files of the active version"), manifestBox);

  let versions = [];
  let active = null;

  async function loadVersions() {
    try {
      const res = await api.getJSON("/app-bundle/versions");
      const names = (res.versions || []).map(String);
      versions = names.map((v) => v.replace(/ \*$/, ""));
      active = (names.find((v) => v.endsWith(" *")) || "").replace(/ \*$/, "") || null;
      // Who pushed each version and when: the audit log's bundle.push events.
      const pushed = new Map();
      try {
        const audit = await api.getJSON("/admin/audit", { action: "bundle.push", limit: 500 });
        for (const e of audit.events || []) {
          const v = String(e.target ?? "").replace(/^.*?(\d{4,})$/, "$1");
          if (!pushed.has(v)) pushed.set(v, e);
        }
      } catch { /* the list still shows without it */ }
      if (route.stale()) return;
      for (const sel of [from, to]) clear(sel, versions.map((v) => h("option", { value: v }, v + (v === active ? " (active)" : ""))));
      if (versions.length) { from.value = active || versions[0]; to.value = versions.find((v) => v !== from.value) || versions[0]; }
      if (!versions.length) return clear(versionsBox, empty("No app bundle has been pushed yet. Upload a ZIP above."));
      clear(versionsBox, table([
        { label: "Version", cell: (v) => [v, v === active ? h("strong.badge", " active") : null] },
        { label: "Pushed by", cell: (v) => String(pushed.get(v)?.actor ?? "—") },
        { label: "Pushed", cell: (v) => (pushed.get(v) ? when(pushed.get(v).at) : "—") },
        { label: "Actions", cell: (v) => h("div.actions",
          v === active ? h("span.muted", "active") :
            h("button", { type: "button", "aria-label": "Activate version " + v, onclick: () => activate(v) }, "Activate"),
          h("button", { type: "button", "aria-label": "Compare " + v + " with the active version", disabled: !active || v === active,
            onclick: () => { from.value = active; to.value = v; compare(); } }, "Changes from active")) },
      ], versions, { caption: "Versions, newest first" }));
    } catch (err) { clear(versionsBox, errorBox(err)); }
  }

  async function activate(v) {
    let summary = "";
    if (active) {
      try { summary = " " + summarize(await api.getJSON("/app-bundle/changes", { current: v, target: active })); } catch { /* shown without */ }
    }
    if (!(await confirmDialog(`Activate version ${v}${active ? ` instead of ${active}` : ""}? Devices download it at their next sync.${summary}`, { confirm: "Activate" }))) return;
    try {
      const res = await api.postJSON("/app-bundle/switch/" + api.seg(v));
      clear(status, notice(String(res.message || `Switched to ${v}`)));
      await Promise.all([loadVersions(), loadManifest()]);
    } catch (err) { clear(status, errorBox(err)); }
  }

  async function compare() {
    if (!from.value || !to.value) return clear(changesBox, empty("Push at least two versions to compare them."));
    if (from.value === to.value) return clear(changesBox, empty("Pick two different versions."));
    clear(changesBox, loading());
    try {
      // target is the base (what devices have), current the state compared with it.
      renderChanges(await api.getJSON("/app-bundle/changes", { current: to.value, target: from.value }));
    } catch (err) { clear(changesBox, errorBox(err)); }
  }

  function renderChanges(c) {
    const modified = c.modified_forms || [];
    const blocks = [h("p", `From ${c.compare_version_b} to ${c.compare_version_a}: ` + summarize(c))];
    if ((c.new_forms || []).length) blocks.push(h("h3", "Forms added"), h("ul", c.new_forms.map((f) => h("li.change.added", String(f.form)))));
    if ((c.removed_forms || []).length) blocks.push(h("h3", "Forms removed"), h("ul", c.removed_forms.map((f) => h("li.change.removed", String(f.form)))));
    for (const m of modified) {
      const added = new Map((m.added_fields || []).map((f) => [String(f.field), f.type]));
      const removed = new Map((m.removed_fields || []).map((f) => [String(f.field), f.type]));
      const items = [];
      for (const [name, type] of added) {
        if (removed.has(name)) items.push(h("li.change.changed", h("span.key", name), ` changed type: ${removed.get(name) ?? "?"} → ${type ?? "?"}`));
        else items.push(h("li.change.added", h("span.key", name), ` added (${type ?? "?"})`));
      }
      for (const [name, type] of removed) if (!added.has(name)) items.push(h("li.change.removed", h("span.key", name), ` removed (${type ?? "?"})`));
      const flags = [m.schema_changed ? "schema changed" : null, m.ui_changed ? "layout (ui.json) changed" : null,
        m.core_changed ? "core fields changed" : null].filter(Boolean).join(", ");
      blocks.push(h("h3", "Form ", h("code", String(m.form))), flags ? h("p.muted", flags) : null,
        items.length ? h("ul.changes", items) : h("p.muted", "No field added or removed; definitions changed."));
    }
    if (!modified.length && !(c.new_forms || []).length && !(c.removed_forms || []).length) blocks.push(empty("No form or field differs."));
    clear(changesBox, blocks);
  }

  async function loadManifest() {
    try {
      const m = await api.getJSON("/app-bundle/manifest");
      const files = m.files || [];
      if (!files.length) return clear(manifestBox, empty("No active version: no files."));
      clear(manifestBox,
        h("p", `Version ${m.version}: ${files.length} files, ${fmtBytes(files.reduce((s, f) => s + (f.size || 0), 0))}. `,
          h("button", { type: "button", onclick: () => download("/app-bundle/download-zip", `bundle-${m.version}.zip`) }, "Download the whole bundle")),
        table([
          { label: "File", cell: (f) => h("code", String(f.path)) },
          { label: "Size", cell: (f) => fmtBytes(f.size) },
          { label: "Type", cell: (f) => String(f.mimeType ?? "") },
          { label: "SHA-256", cell: (f) => h("code.hash", String(f.hash ?? "").slice(0, 12) + "…") },
          { label: "Download", cell: (f) => h("button", { type: "button", "aria-label": "Download " + f.path,
            onclick: () => download("/app-bundle/download/" + String(f.path).split("/").map(api.seg).join("/"), String(f.path).split("/").pop()) }, "Download") },
        ], files, { caption: "Manifest of the active version" }));
    } catch (err) { clear(manifestBox, errorBox(err)); }
  }

  async function download(path, name) {
    try { saveBlob(await api.getBlob(path), name); } catch (err) { clear(status, errorBox(err)); }
  }

  function uploadForm() {
    const file = h("input", { type: "file", name: "bundle", accept: ".zip,application/zip", required: true });
    const bar = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Upload progress" });
    const out = h("div", { "aria-live": "polite" });
    const button = h("button.primary", { type: "submit" }, "Upload bundle");
    return h("section.panel", h("h2", "Upload a new version"), h("form", { "aria-label": "Upload a bundle", onsubmit: async (e) => {
      e.preventDefault();
      if (!file.files.length) return;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      clear(out);
      try {
        const res = await api.upload("/app-bundle/push", "bundle", file.files[0], (done, total) => { bar.value = Math.round((100 * done) / total); });
        bar.value = 100;
        const m = res.manifest || {};
        clear(out, notice(`Pushed version ${m.version} (${(m.files || []).length} files).` +
          (active ? " It is not active yet: activate it below." : " It is active.")));
        file.value = "";
        await Promise.all([loadVersions(), loadManifest()]);
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        button.disabled = false;
      }
    } }, field("Bundle ZIP", file, "app/, forms/<name>/schema.json and ui.json, renderers/"), bar, button, out));
  }

  await Promise.all([loadVersions(), loadManifest()]);
}

function summarize(c) {
  const n = (l) => (l || []).length;
  let fields = 0;
  for (const m of c.modified_forms || []) fields += n(m.added_fields) + n(m.removed_fields);
  return `${n(c.new_forms)} form(s) added, ${n(c.removed_forms)} removed, ${n(c.modified_forms)} changed (${fields} field change(s)).`;
}
