// Attachments: list, only the unreferenced ones, preview raster images, delete (confirmed).
import * as api from "../api.js";
import { h, clear, loading, empty, table, when, errorBox, fmtBytes, pager, link, confirmDialog, isPreviewable,
  blobImage, saveBlob, showDialog, notice } from "../dom.js";

export async function render(main, route) {
  const only = h("input", { type: "checkbox", name: "unreferenced", checked: route.query.get("unreferenced") === "true" });
  const list = h("div", loading());
  const status = h("div", { "aria-live": "polite" });
  const pages = pager((cursor) => load(cursor));
  only.addEventListener("change", () => {
    route.setQuery({ unreferenced: only.checked ? "true" : "" });
    pages.reset();
    load(null);
  });
  main.append(h("h1", "Attachments"),
    h("div.filters", h("label.check", only, " Only unreferenced attachments")), status, list, pages.el);

  async function load(cursor) {
    clear(list, loading());
    try {
      const res = await api.getJSON("/admin/attachments", { unreferenced: only.checked ? "true" : "", cursor });
      if (route.stale()) return;
      const rows = res.attachments || [];
      pages.update(res.next_cursor);
      if (!rows.length) {
        return clear(list, empty(only.checked ? "No unreferenced attachments." : "No attachments have been uploaded."));
      }
      clear(list, table([
        { label: "Attachment", cell: (a) => h("code", String(a.attachment_id)) },
        { label: "Size", cell: (a) => fmtBytes(a.size) },
        { label: "Type", cell: (a) => String(a.content_type ?? "") },
        { label: "Uploaded", cell: (a) => [when(a.uploaded_at), " by ", String(a.uploaded_by ?? "")] },
        { label: "Referenced by", cell: (a) => refs(a) },
        { label: "Actions", cell: (a) => h("div.actions",
          isPreviewable(a.content_type)
            ? h("button", { type: "button", "aria-label": "Preview " + a.attachment_id, onclick: () => preview(a) }, "Preview") : null,
          h("button", { type: "button", "aria-label": "Download " + a.attachment_id, onclick: () => download(a) }, "Download"),
          h("button.danger", { type: "button", "aria-label": "Delete " + a.attachment_id, onclick: () => remove(a) }, "Delete")) },
      ], rows, { caption: "Attachments" }));
    } catch (err) {
      clear(list, errorBox(err));
    }
  }

  async function preview(a) {
    try {
      const blob = await api.getBlob("/attachments/" + api.seg(a.attachment_id));
      showDialog("Attachment " + a.attachment_id,
        isPreviewable(blob.type) ? blobImage(blob, "Attachment " + a.attachment_id) : notice("Not an image; download it instead."));
    } catch (err) { clear(status, errorBox(err)); }
  }

  async function download(a) {
    try { saveBlob(await api.getBlob("/attachments/" + api.seg(a.attachment_id)), a.attachment_id); }
    catch (err) { clear(status, errorBox(err)); }
  }

  async function remove(a) {
    const refsText = a.references ? ` ${a.references} record(s) still name it.` : "";
    if (!(await confirmDialog(`Delete attachment ${a.attachment_id}? Devices delete it at their next sync.${refsText}`, { confirm: "Delete" }))) return;
    try {
      await api.del("/attachments/" + api.seg(a.attachment_id));
      clear(status, notice(`Attachment ${a.attachment_id} deleted.`));
      pages.reset();
      await load(null);
    } catch (err) { clear(status, errorBox(err)); }
  }

  await load(null);
}

function refs(a) {
  const ids = a.referenced_by || [];
  if (!ids.length) return h("span.muted", "unreferenced");
  const more = (a.references ?? ids.length) - ids.length;
  return h("ul.inline", ids.map((id) => h("li", link("/records/" + encodeURIComponent(id), String(id)))),
    more > 0 ? h("li.muted", `and ${more} more`) : null);
}
