// DOM helpers. Every piece of text goes in as a text node (textContent), never as
// HTML: record data, usernames, form types and file names come from devices and
// admins and are untrusted. No HTML-parsing sink is used anywhere in the console
// (tests/integration/test_console.py checks the sources for them).

/** h("tag.class", {attr: value, onclick: fn}, ...children): strings become text nodes. */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = String(v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else if (k === "value" || k === "checked") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link inside the console (hash route); `route` is built from encoded parts only. */
export function link(route, text) { return h("a", { href: "#" + route }, text); }

export function fmtTime(s) {
  if (!s) return "—";
  const d = new Date(s);
  if (isNaN(d)) return String(s);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC");
}

export function relTime(s) {
  if (!s) return "never";
  const d = new Date(s);
  if (isNaN(d)) return String(s);
  const sec = Math.round((Date.now() - d.getTime()) / 1000);
  const abs = Math.abs(sec);
  const units = [[86400 * 365, "year"], [86400 * 30, "month"], [86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  for (const [n, name] of units) {
    if (abs >= n || n === 1) {
      const v = Math.floor(abs / n);
      const word = `${v} ${name}${v === 1 ? "" : "s"}`;
      return sec >= 0 ? `${word} ago` : `in ${word}`;
    }
  }
  return "";
}

/** A <time> showing relative time, the exact time beside it for narrow screens' sake. */
export function when(s) {
  if (!s) return h("span.muted", "never");
  return h("time", { datetime: String(s), title: fmtTime(s) }, relTime(s), h("span.exact", " (" + fmtTime(s) + ")"));
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(n), i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(1)) + " " + units[i];
}

export function loading(what = "Loading…") { return h("p.loading", { role: "status" }, what); }

export function empty(what) { return h("p.empty", { role: "status" }, what); }

/** The server's problem detail, and per-field errors when there are any. */
export function errorBox(err) {
  const box = h("div.error", { role: "alert" }, h("p", err && err.message ? err.message : String(err)));
  if (err && Array.isArray(err.errors) && err.errors.length) {
    box.append(h("ul", err.errors.map((e) => h("li", h("code", String(e.field ?? "")), ": ", String(e.message ?? "")))));
  }
  return box;
}

export function notice(text) { return h("p.notice", { role: "status" }, text); }

/**
 * A table: columns [{label, cell(row) → Node|string, sort(row) → comparable}]; a
 * column with `sort` gets a header button that sorts the rows shown.
 */
export function table(columns, rows, { caption, sortable = false } = {}) {
  const tbody = h("tbody");
  let order = { col: -1, dir: 1 };
  const heads = columns.map((c, i) => {
    const th = h("th", { scope: "col" });
    if (sortable && c.sort) {
      th.setAttribute("aria-sort", "none");
      th.append(h("button.sort", { type: "button", onclick: () => sortBy(i) }, c.label));
    } else th.append(c.label);
    return th;
  });
  function fill(list) {
    clear(tbody, list.map((row) => h("tr", columns.map((c, i) =>
      h(i === 0 ? "th" : "td", i === 0 ? { scope: "row", "data-label": c.label } : { "data-label": c.label }, c.cell(row))))));
  }
  function sortBy(i) {
    order = { col: i, dir: order.col === i ? -order.dir : 1 };
    const key = columns[i].sort;
    const sorted = [...rows].sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * order.dir;
    });
    heads.forEach((th, j) => th.hasAttribute("aria-sort") &&
      th.setAttribute("aria-sort", j === i ? (order.dir > 0 ? "ascending" : "descending") : "none"));
    fill(sorted);
  }
  fill(rows);
  return h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": caption || "table" },
    h("table", caption ? h("caption", caption) : null, h("thead", h("tr", heads)), tbody));
}

/** A modal <dialog>; resolves true when confirmed. */
export function confirmDialog(question, { confirm = "Confirm", danger = true } = {}) {
  return new Promise((resolve) => {
    const ok = h("button" + (danger ? ".danger" : ""), { type: "submit", value: "yes" }, confirm);
    const dlg = h("dialog", { "aria-label": "Confirm" },
      h("form", { method: "dialog" },
        h("p", question),
        h("div.actions", h("button", { type: "submit", value: "no" }, "Cancel"), ok)));
    dlg.addEventListener("close", () => { dlg.remove(); resolve(dlg.returnValue === "yes"); });
    document.body.append(dlg);
    dlg.showModal();
    ok.focus();
  });
}

/** A modal dialog with arbitrary content and a Close button. */
export function showDialog(label, ...content) {
  const dlg = h("dialog", { "aria-label": label },
    h("h2", label), ...content,
    h("form", { method: "dialog" }, h("div.actions", h("button", { type: "submit" }, "Close"))));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

/** A labelled input: label text is the accessible name. */
export function field(label, input, hint) {
  if (!input.id) input.id = "f-" + Math.random().toString(36).slice(2, 10);
  return h("div.field", h("label", { for: input.id }, label), input, hint ? h("small", hint) : null);
}

/** Saves a Blob as a download without ever rendering it in the console's origin. */
export function saveBlob(blob, name) {
  // octet-stream: even if something opened the URL, nothing renders as HTML/SVG here.
  const safe = new Blob([blob], { type: "application/octet-stream" });
  const url = URL.createObjectURL(safe);
  const a = h("a", { href: url, download: String(name).replace(/[\\/]/g, "_") || "download" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);

/** Raster images only: SVG (script-capable) and everything else is only downloaded. */
export function isPreviewable(type) { return PREVIEWABLE.has(String(type || "").split(";")[0].trim().toLowerCase()); }

/** An <img> of a fetched Blob; the blob: URL is revoked when the image is gone. */
export function blobImage(blob, alt) {
  const url = URL.createObjectURL(blob);
  const img = h("img.preview", { src: url, alt });
  img.addEventListener("load", () => setTimeout(() => URL.revokeObjectURL(url), 1000), { once: true });
  return img;
}

/** "2026-01-02T03:04" (datetime-local, local time) → RFC 3339 UTC, or "" */
export function toRfc3339(local) {
  if (!local) return "";
  const d = new Date(local);
  return isNaN(d) ? "" : d.toISOString().replace(/\.\d+Z$/, "Z");
}

/** Cursor paging: the page calls load(cursor); the pager keeps earlier cursors for Previous. */
export function pager(load) {
  const stack = [];
  let current = null;
  const prev = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  const nav = h("nav.pager", { "aria-label": "Pages" }, prev, next);
  let nextCursor = null;
  prev.addEventListener("click", () => { current = stack.pop() ?? null; load(current); });
  next.addEventListener("click", () => { stack.push(current); current = nextCursor; load(current); });
  return {
    el: nav,
    update(cursor) {
      nextCursor = cursor || null;
      next.disabled = !nextCursor;
      prev.disabled = stack.length === 0;
    },
    reset() { stack.length = 0; current = null; },
  };
}
