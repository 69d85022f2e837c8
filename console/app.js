// The console's shell: sign-in, the navigation landmark, hash routes, one page
// module per route. The page holds no state the server does not hold (Cockpit's
// rule): every view is read from the API when it is shown.
import * as api from "./api.js";
import { h, clear, errorBox, field } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as devices from "./pages/devices.js";
import * as records from "./pages/records.js";
import * as record from "./pages/record.js";
import * as attachments from "./pages/attachments.js";
import * as bundle from "./pages/bundle.js";
import * as users from "./pages/users.js";
import * as audit from "./pages/audit.js";
import * as exportPage from "./pages/export.js";

const PAGES = [
  ["overview", "Overview", overview],
  ["devices", "Devices", devices],
  ["records", "Records", records],
  ["attachments", "Attachments", attachments],
  ["bundle", "App bundle", bundle],
  ["users", "Users", users],
  ["audit", "Audit log", audit],
  ["export", "Export", exportPage],
];

const root = document.getElementById("app");
let renderSeq = 0;

/** "#/records/abc?x=1" → {name: "records", rest: ["abc"], query: URLSearchParams} */
function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  return { name: parts[0] || "overview", rest: parts.slice(1), query: new URLSearchParams(qs || "") };
}

/** Changes the query of the current route (filters survive a reload and a re-sign-in). */
export function setQuery(params) {
  const { name, rest } = parseRoute();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  const target = "#/" + [name, ...rest].map(encodeURIComponent).join("/") + (s ? "?" + s : "");
  if (target !== location.hash) history.replaceState(null, "", target);
}

function signInView(message) {
  const user = h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button.primary", { type: "submit" }, "Sign in");
  const form = h("form.signin", {
    "aria-label": "Sign in",
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      clear(status);
      try {
        await api.login(user.value, pass.value);
        pass.value = "";
        await show();
      } catch (err) {
        clear(status, errorBox(err));
        button.disabled = false;
      }
    },
  },
  h("h1", "Synkronus console"),
  message ? h("p.notice", { role: "status" }, message) : null,
  field("Username", user),
  field("Password", pass),
  button,
  status);
  clear(root, h("main.signin-page", form));
  user.focus();
}

function header(me) {
  const current = parseRoute().name;
  const nav = h("nav.main", { "aria-label": "Console" },
    h("ul", PAGES.map(([name, label]) => h("li", h("a", {
      href: "#/" + name,
      "aria-current": name === current || (name === "records" && current === "record") ? "page" : null,
    }, label)))));
  const out = h("button.signout", { type: "button", onclick: signOut }, "Sign out");
  return h("header.top",
    h("div.brand", h("span.logo", { "aria-hidden": "true" }), "Synkronus"),
    me && me.role === "admin" ? nav : null,
    h("div.me", h("span.who", me ? me.username : ""), out));
}

async function signOut() {
  try { await api.logout(); } catch { /* the session is forgotten either way */ }
  history.replaceState(null, "", "#/overview");
  signInView("You are signed out.");
}

async function show() {
  const me = api.currentUser();
  if (!me) return signInView();
  const seq = ++renderSeq;
  const route = parseRoute();
  const main = h("main.page", { id: "main", tabindex: "-1" });
  clear(root, header(me), main);
  if (me.role !== "admin") {
    clear(main,
      h("h1", "Administrators only"),
      h("p.notice", { role: "status" },
        "This console is for administrators. You are signed in as ", h("strong", me.username),
        " with the role ", h("strong", me.role), "; ask an administrator if you need access."));
    return;
  }
  const entry = route.name === "records" && route.rest.length ? ["record", "Record", record]
    : PAGES.find(([name]) => name === route.name);
  if (!entry) {
    clear(main, h("h1", "Not found"), h("p", "This page does not exist."), h("a", { href: "#/overview" }, "Overview"));
    return;
  }
  document.title = entry[1] + " · Synkronus console";
  try {
    await entry[2].render(main, { ...route, id: route.rest[0], setQuery, stale: () => seq !== renderSeq });
  } catch (err) {
    if (seq === renderSeq && !(err instanceof api.ApiError && err.status === 401)) main.append(errorBox(err));
  }
}

api.onSessionExpired(() => signInView("Your session has expired. Sign in again to carry on where you were."));
window.addEventListener("hashchange", () => { if (api.currentUser()) show(); });

(async () => {
  try { await api.resume(); } catch { /* not signed in */ }
  show();
})();
