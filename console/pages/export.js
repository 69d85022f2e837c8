// Export: CSV or Parquet, some or all form types, a time range, tombstones or not.
// The file comes through a one-time download link (CONTRACT §9), so the browser's own
// download manager streams it to disk whatever its size; the page never holds it.
import * as api from "../api.js";
import { h, clear, errorBox, field, notice, toRfc3339, empty } from "../dom.js";

export async function render(main) {
  const csv = h("input", { type: "radio", name: "format", value: "csv", id: "fmt-csv" });
  const parquet = h("input", { type: "radio", name: "format", value: "parquet", id: "fmt-parquet", checked: true });
  const types = h("fieldset", h("legend", "Form types (none ticked: all)"));
  const after = h("input", { type: "datetime-local", name: "changed_after" });
  const before = h("input", { type: "datetime-local", name: "changed_before" });
  const tombstones = h("input", { type: "checkbox", name: "deleted", checked: true });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button.primary", { type: "submit" }, "Export");
  main.append(h("h1", "Export"), h("form.panel", { "aria-label": "Export", onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    clear(out);
    try {
      const picked = [...types.querySelectorAll("input:checked")].map((i) => i.value);
      for (const t of types.querySelectorAll("input[name=form_types_typed]")) {
        picked.push(...t.value.split(",").map((x) => x.trim()).filter(Boolean));
      }
      const body = { format: parquet.checked ? "parquet" : "csv" };
      if (picked.length) body.form_type = picked;
      if (after.value) body.changed_after = toRfc3339(after.value);
      if (before.value) body.changed_before = toRfc3339(before.value);
      if (!tombstones.checked) body.deleted = false;
      const link = await api.postJSON("/dataexport/links", body);
      // A same-origin link with Content-Disposition: attachment downloads without
      // leaving the page; the link works once, within 60 s, and needs no token.
      // Absolute, on the server's public address (public_base_url may name another
      // host than the one this browser used); only an http(s) URL is ever followed.
      const url = new URL(String(link.url), location.origin);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("The server's download link is not an http(s) URL; not followed.");
      const a = h("a", { href: url.href, download: "" }, "download");
      document.body.append(a);
      a.click();
      a.remove();
      clear(out, notice(`The ${body.format === "parquet" ? "Parquet" : "CSV"} export is downloading (the link expires ${link.expires_at ? "at " + link.expires_at : "in 60 s"}).`));
    } catch (err) {
      clear(out, errorBox(err));
    } finally {
      button.disabled = false;
    }
  } },
  h("fieldset", h("legend", "Format"),
    h("label.check", { for: "fmt-parquet" }, parquet, " Parquet"), h("label.check", { for: "fmt-csv" }, csv, " CSV (ZIP of one file per form type)")),
  types,
  field("Changed after", after), field("Changed before", before),
  h("label.check", tombstones, " Include deleted records (tombstones)"),
  button, out));
  try {
    const o = await api.getJSON("/admin/overview");
    const list = o.form_types || [];
    if (!list.length) types.append(empty("No form types yet: the export would be empty."));
    for (const f of list) {
      types.append(h("label.check", h("input", { type: "checkbox", name: "form_type", value: String(f.form_type) }), " ", String(f.form_type)));
    }
  } catch (err) {
    // Without the list, the form types can still be typed.
    types.append(errorBox(err), field("Form types, comma-separated", h("input", { name: "form_types_typed", autocapitalize: "none", spellcheck: "false" })));
  }
}
