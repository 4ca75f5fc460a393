/*
 * EventoDB console (docs/console.md). Plain JavaScript, no framework, no
 * other origin. Rules that keep it safe whatever the store holds:
 *   - every value from the server reaches the page through text nodes
 *     (el() below); no HTML string is ever parsed into the page;
 *   - the token lives in this tab's sessionStorage and travels in the
 *     Authorization header - only EventSource, which cannot send headers,
 *     puts it in the /subscribe URL (docs/http-api.md#where-the-token-comes-from);
 *   - the Content-Security-Policy of /ui/ allows no inline script or style,
 *     so styles are classes and the chart is drawn on a canvas.
 */
"use strict";

(() => {
  const TOKEN_KEY = "eventodb.console.token";
  const PAGE = 50;              // messages per page: a category of any size loads 50 at a time
  const STREAMS_PAGE = 50;
  const TAIL_KEEP = 500;        // rows a live tail keeps on screen
  const TAIL_CLOCK_SLACK_MS = 2000;
  const BIG_PAYLOAD = 4096;     // larger payloads start collapsed and are formatted on demand
  const RATE_SECONDS = 60;

  const main = document.getElementById("main");
  const statusLine = document.getElementById("status");

  /* ---------------------------------------------------------------- DOM */

  // el("a", {href, class, onclick...}, child...) - children are nodes or
  // text; strings never become markup.
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else if (k === "dataset") Object.assign(node.dataset, v);
        else if (k in node && typeof v !== "string") node[k] = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    append(node, kids);
    return node;
  }

  function append(node, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function say(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = kind || "";
    if (text && kind !== "error") {
      const shown = text;
      setTimeout(() => { if (statusLine.textContent === shown) statusLine.textContent = ""; }, 3000);
    }
  }

  /* ---------------------------------------------------------------- JSON */

  // A number whose JSON text a double cannot hold exactly (large integers,
  // long fractions): shown as the server sent it.
  class RawNumber {
    constructor(text) { this.text = text; }
    toString() { return this.text; }
    valueOf() { return Number(this.text); }
  }

  function parseJSON(text) {
    return JSON.parse(text, function (key, value, context) {
      // context.source: the number's text as sent (JSON.parse source access)
      if (typeof value === "number" && context && typeof context.source === "string" &&
          String(value) !== context.source) {
        return new RawNumber(context.source);
      }
      return value;
    });
  }

  // JSON text of a parsed value; indent null = compact.
  function formatJSON(value, indent) {
    const parts = [];
    const stack = [[value, ""]];
    // iterative, so deeply nested payloads cannot exhaust the call stack
    const write = (v, pad) => {
      if (v === null || v === undefined) { parts.push("null"); return; }
      if (v instanceof RawNumber) { parts.push(v.text); return; }
      if (typeof v !== "object") { parts.push(JSON.stringify(v)); return; }
      const isArray = Array.isArray(v);
      const keys = isArray ? null : Object.keys(v);
      const n = isArray ? v.length : keys.length;
      if (n === 0) { parts.push(isArray ? "[]" : "{}"); return; }
      const inner = indent === null ? "" : pad + indent;
      const nl = indent === null ? "" : "\n";
      const sep = indent === null ? ":" : ": ";
      parts.push(isArray ? "[" : "{");
      const todo = [];
      for (let i = 0; i < n; i++) {
        const prefix = (i ? "," : "") + nl + inner + (isArray ? "" : JSON.stringify(keys[i]) + sep);
        todo.push({ text: prefix }, { value: isArray ? v[i] : v[keys[i]], pad: inner });
      }
      todo.push({ text: nl + pad + (isArray ? "]" : "}") });
      for (let i = todo.length - 1; i >= 0; i--) stack.push(todo[i]);
    };
    stack.pop();
    write(value, "");
    while (stack.length) {
      const item = stack.pop();
      if ("text" in item) parts.push(item.text);
      else write(item.value, item.pad);
    }
    return parts.join("");
  }

  function prettyJSON(value) {
    const compact = formatJSON(value, null);
    if (compact.length > 200000) return compact;      // indenting would only add bulk
    const pretty = formatJSON(value, "  ");
    return pretty.length > 4 * compact.length + 20000 ? compact : pretty;   // very deep
  }

  /* ---------------------------------------------------------------- token */

  // docs/http-api.md#tokens: ns_<base64url(namespace)>_<64 hex>
  function tokenNamespace(token) {
    const m = /^ns_([A-Za-z0-9_-]+)_([0-9A-Fa-f]{64})$/.exec(token);
    if (!m || m[1].includes("_")) return null;
    try {
      const b64 = m[1].replace(/-/g, "+").replace(/_/g, "/");
      const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
      const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      const ns = new TextDecoder().decode(bytes);
      return ns === "" ? null : ns;
    } catch (e) {
      return null;
    }
  }

  const session = {
    get token() { return sessionStorage.getItem(TOKEN_KEY); },
    namespace: null,
    admin: false,
  };

  /* ---------------------------------------------------------------- RPC */

  class RpcError extends Error {
    constructor(status, code, message, details) {
      super(message || code || ("HTTP " + status));
      this.status = status;
      this.code = code || "HTTP_" + status;
      this.details = details;
    }
  }

  const ADMIN_METHODS = new Set(["ns.list", "ns.info", "ns.create", "ns.delete"]);

  const endpoint = (path) => new URL("../" + path, document.baseURI).href;

  async function rpc(method, ...args) {
    return rpcWith(session.token, method, ...args);
  }

  async function rpcWith(token, method, ...args) {
    let res;
    try {
      res = await fetch(endpoint("rpc"), {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: JSON.stringify([method, ...args]),
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch (e) {
      throw new RpcError(0, "NETWORK", "The gateway cannot be reached");
    }
    const text = await res.text();
    let body;
    try {
      body = parseJSON(text);
    } catch (e) {
      throw new RpcError(res.status, "BAD_RESPONSE", "Unreadable answer (HTTP " + res.status + ")");
    }
    if (!res.ok) {
      const err = (body && body.error) || {};
      // the token itself no longer works (a 403 of an admin method only
      // means this token may not administer)
      if (res.status === 401 || (res.status === 403 && !ADMIN_METHODS.has(method))) signedOut(err.message);
      throw new RpcError(res.status, err.code, err.message, err.details);
    }
    return body;
  }

  /* ------------------------------------------------------------- routing */

  // #/view/arg?query - names are percent-encoded, so any stream name (spaces,
  // '#', '/', '?') makes a link that can be shared. The token never goes here.
  function parseHash() {
    const h = location.hash.replace(/^#\/?/, "");
    const q = h.indexOf("?");
    const path = (q < 0 ? h : h.slice(0, q)).split("/").map((s) => {
      try { return decodeURIComponent(s); } catch (e) { return s; }
    });
    return { view: path[0] || "", arg: path.length > 1 ? path.slice(1).join("/") : null,
             query: new URLSearchParams(q < 0 ? "" : h.slice(q + 1)) };
  }

  function link(view, arg, query) {
    let h = "#/" + view;
    if (arg !== undefined && arg !== null) h += "/" + encodeURIComponent(arg);
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
      const s = q.toString();
      if (s) h += "?" + s;
    }
    return h;
  }

  function navigate(hash, replace) {
    if (replace) {
      history.replaceState(null, "", hash);
      route();
    } else if (location.hash === hash) {
      route();
    } else {
      location.hash = hash;
    }
  }

  let current = { gen: 0, cleanups: [] };

  function onLeave(fn) { current.cleanups.push(fn); }

  const views = {
    "": viewHome,
    signin: viewSignin,
    namespaces: viewNamespaces,
    categories: viewCategories,
    streams: viewStreams,
    stream: viewStream,
    category: viewCategory,
    tail: viewTail,
    subscriptions: viewSubscriptions,
    subscription: viewSubscription,
  };

  async function route() {
    for (const fn of current.cleanups) { try { fn(); } catch (e) { /* already gone */ } }
    current = { gen: current.gen + 1, cleanups: [] };
    const gen = current.gen;
    const r = parseHash();
    const view = views[r.view] ? r.view : "";
    if (!session.token && view !== "signin") {
      renderSignin(location.hash);
      return;
    }
    markNav(view);
    clear(main);
    main.append(el("p", { class: "loading", text: "Loading…" }));
    try {
      await views[view](r.arg, r.query, () => gen === current.gen);
    } catch (e) {
      if (gen !== current.gen) return;
      clear(main);
      main.append(el("h1", { text: "Something went wrong" }),
        el("p", { class: "error" }, e.code ? e.code + ": " : "", e.message));
    }
    if (gen === current.gen) {
      // the link that was followed is gone: keep keyboard focus in the page
      if (!document.activeElement || document.activeElement === document.body) main.focus({ preventScroll: true });
      performance.mark("eventodb:view-rendered");
      document.documentElement.dataset.view = view;
      document.documentElement.dataset.rendered = String(gen);   // for tests: a view finished
    }
  }

  function markNav(view) {
    const names = { stream: "streams", category: "categories", subscription: "subscriptions" };
    const active = names[view] || view;
    for (const a of document.querySelectorAll("#nav a")) {
      const on = a.getAttribute("href") === "#/" + active;
      a.classList.toggle("active", on);
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
  }

  // Renders the page of one view; stale answers (the user moved on) are dropped.
  function page(isCurrent, title, ...kids) {
    if (!isCurrent()) return false;
    clear(main);
    document.title = title + " · EventoDB";
    append(main, [el("h1", {}, title), kids]);
    performance.mark("eventodb:page-shown");
    return true;
  }

  /* -------------------------------------------------------------- sign in */

  function signedOut(why) {
    if (!session.token) return;
    sessionStorage.removeItem(TOKEN_KEY);
    session.namespace = null;
    session.admin = false;
    updateChrome();
    renderSignin(location.hash, why ? "Signed out: " + why : "Signed out");
  }

  function viewSignin() {
    renderSignin("#/");
  }

  function renderSignin(next, message) {
    for (const fn of current.cleanups) { try { fn(); } catch (e) { /* gone */ } }
    current = { gen: current.gen + 1, cleanups: [] };
    clear(main);
    document.title = "Sign in · EventoDB";
    const input = el("input", { type: "password", id: "token", name: "token", autocomplete: "off",
      spellcheck: "false", required: true, placeholder: "ns_…_…", "aria-describedby": "signin-help" });
    const error = el("p", { class: "error", id: "signin-error", role: "alert" }, message || "");
    const form = el("form", { class: "signin", onsubmit: async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      error.textContent = "";
      const ns = tokenNamespace(token);
      if (!ns) { error.textContent = "That is not a namespace token (ns_<namespace>_<64 hex digits>)."; return; }
      try {
        await rpcWith(token, "sys.version");
      } catch (e) {
        error.textContent = e.status === 401 || e.status === 403
          ? "Token refused: " + e.message : e.message;
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      input.value = "";
      adminKnown = learnSession();
      await adminKnown;
      const target = next && next !== "#/signin" ? next : "#/";
      navigate(target.startsWith("#") ? target : "#/", true);
    } },
      el("label", { for: "token" }, "Namespace token"),
      input,
      el("p", { id: "signin-help", class: "hint" },
        "Kept in this browser tab only (session storage) and sent in the Authorization header. " +
        "The default namespace's token also lists every namespace."),
      el("button", { type: "submit", id: "signin-submit" }, "Sign in"),
      error);
    main.append(el("h1", { text: "Sign in" }), form);
    updateChrome();
    input.focus();
  }

  let adminKnown = Promise.resolve();

  async function learnSession() {
    session.namespace = tokenNamespace(session.token || "");
    session.admin = false;
    if (session.token) {
      try {
        await rpc("ns.list");
        session.admin = true;
      } catch (e) {
        session.admin = false;
      }
    }
    updateChrome();
  }

  function updateChrome() {
    const signedIn = !!session.token;
    document.getElementById("nav").hidden = !signedIn;
    document.getElementById("signout").hidden = !signedIn;
    document.getElementById("nav-namespaces").hidden = !session.admin;
    document.getElementById("who").textContent = signedIn && session.namespace !== null
      ? "namespace " + session.namespace : "";
  }

  /* ------------------------------------------------------------- widgets */

  function table(headers, rows, empty) {
    if (!rows.length) return el("p", { class: "empty", text: empty || "Nothing here yet." });
    return el("div", { class: "table-wrap" },
      el("table", {},
        el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows)));
  }

  function num(n) {
    return n instanceof RawNumber ? n.text : typeof n === "number" ? n.toLocaleString("en-US") : String(n);
  }

  // extra: {first, last} hashes; onNext runs before the next page opens
  function pager(prev, next, extra, onNext) {
    const btn = (label, hash, key) => hash
      ? el("a", { class: "button", href: hash, dataset: { page: key }, onclick: key === "next" ? onNext : null }, label)
      : el("span", { class: "button disabled", "aria-disabled": "true" }, label);
    return el("nav", { class: "pager", "aria-label": "Pages" },
      extra && extra.first !== undefined ? btn("⇤ First", extra.first, "first") : null,
      btn("← Previous", prev, "prev"), btn("Next →", next, "next"),
      extra && extra.last !== undefined ? btn("Last ⇥", extra.last, "last") : null);
  }

  // The clipboard API needs a secure context (https or localhost); elsewhere
  // the old selection-based copy still works.
  async function copyText(text, what) {
    let ok = true;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const ta = el("textarea", { class: "offscreen", readonly: true });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      ta.remove();
    }
    if (ok) say("Copied " + what); else say("Could not copy " + what + "; select it and copy by hand", "error");
  }

  function copyButton(label, text, what) {
    return el("button", { type: "button", class: "copy", onclick: () => copyText(typeof text === "function" ? text() : text, what) }, label);
  }

  // Normalised message: stream messages (7 fields) and category messages (8).
  function message(arr, stream) {
    if (arr.length === 7) {
      const [id, type, position, globalPosition, data, metadata, time] = arr;
      return { id, stream, type, position, globalPosition, data, metadata, time };
    }
    const [id, s, type, position, globalPosition, data, metadata, time] = arr;
    return { id, stream: s, type, position, globalPosition, data, metadata, time };
  }

  function payload(label, value) {
    if (value === null || value === undefined) {
      return el("div", { class: "payload none" }, el("span", { class: "label" }, label), " null");
    }
    const compact = formatJSON(value, null);
    const pre = el("pre", { tabindex: "0" });
    const fill = () => { if (!pre.firstChild) pre.textContent = prettyJSON(value); };
    const big = compact.length > BIG_PAYLOAD;
    const details = el("details", { class: "payload", open: !big, ontoggle: () => { if (details.open) fill(); } },
      el("summary", {}, el("span", { class: "label" }, label),
        " ", el("span", { class: "size" }, compact.length.toLocaleString("en-US") + " bytes")),
      pre,
      copyButton("Copy " + label, () => prettyJSON(value), label));
    if (!big) fill();
    return details;
  }

  function messageCard(m, showStream) {
    const gp = String(m.globalPosition);
    return el("article", { class: "msg item", tabindex: "0", dataset: { gp: String(m.globalPosition), pos: String(m.position) } },
      el("header", {},
        el("span", { class: "pos", title: "position in its stream" }, "#" + String(m.position)),
        el("span", { class: "gpos", title: "global position" }, "g" + gp),
        el("span", { class: "type" }, m.type),
        showStream ? el("a", { class: "stream", href: link("stream", m.stream, { pos: m.position }) }, m.stream) : null,
        el("time", { datetime: m.time, title: localTime(m.time) }, m.time)),
      payload("data", m.data),
      payload("metadata", m.metadata),
      el("footer", {},
        el("span", { class: "id" }, "id ", el("code", {}, m.id)),
        copyButton("Copy id", m.id, "id"),
        copyButton("Copy message", () => formatJSON({
          id: m.id, stream: m.stream, type: m.type, position: m.position,
          globalPosition: m.globalPosition, time: m.time, data: m.data, metadata: m.metadata }, "  "), "message")));
  }

  function localTime(t) {
    const d = new Date(t);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  function messageList(msgs, showStream) {
    if (!msgs.length) return el("p", { class: "empty", text: "No messages here." });
    return el("div", { class: "msgs" }, msgs.map((m) => messageCard(m, showStream)));
  }

  function categoryOf(stream) {
    const i = stream.indexOf("-");
    return i < 0 ? stream : stream.slice(0, i);
  }

  function intParam(q, name, dflt) {
    const v = q.get(name);
    if (v === null || v === "" || !/^-?\d+$/.test(v)) return dflt;
    return Number(v);
  }

  /* ------------------------------------------------------------ live feed */

  // One EventSource per page on /subscribe?all=true (docs/http-api.md#modes): every
  // write of the namespace pokes it, so it feeds the live tails and the
  // writes-per-second chart alike. Pokes are hints; messages are read by RPC.
  function liveFeed(onPoke, onState) {
    const url = new URL(endpoint("subscribe"));
    url.searchParams.set("all", "true");
    url.searchParams.set("token", session.token);
    const es = new EventSource(url.href);
    es.addEventListener("poke", (ev) => {
      let p;
      try { p = JSON.parse(ev.data); } catch (e) { return; }
      onPoke(p);
    });
    es.addEventListener("open", () => onState("live"));
    es.addEventListener("error", () => onState(es.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
    onLeave(() => es.close());
    return es;
  }

  // Writes per second over the last minute, drawn on a canvas: bars for this
  // namespace (counted from its pokes, one per committed write), and a line
  // for the whole store from GET /metrics (eventodb_pokes_received_total)
  // where the gateway serves that to this browser (localhost, by default).
  let metricsServed = null;

  function rateChart() {
    const counts = new Map();                 // second -> this namespace's writes
    const store = new Map();                  // second -> writes of every namespace
    let lastTotal = null;
    let metricsOn = metricsServed !== false;
    const canvas = el("canvas", { class: "chart", width: 600, height: 120, role: "img",
      "aria-label": "writes per second, last 60 seconds" });
    const label = el("span", { class: "rate", id: "rate-ns" }, "0 writes/s");
    const storeLabel = el("span", { class: "rate store", id: "rate-store" }, "");
    const note = el("span", { class: "hint", id: "rate-source" },
      "bars: this namespace, counted from its pokes");
    const box = el("section", { class: "chart-box", "aria-label": "Throughput" },
      el("h2", {}, "Writes per second ", label, storeLabel), canvas, note);
    const scrape = async () => {
      if (!metricsOn) return;
      try {
        const res = await fetch(endpoint("metrics"), { cache: "no-store", credentials: "omit" });
        const m = res.ok ? /^eventodb_pokes_received_total (\d+)$/m.exec(await res.text()) : null;
        if (!m) throw new Error("no metrics");
        metricsServed = true;
        const total = Number(m[1]);
        const sec = Math.floor(Date.now() / 1000);
        if (lastTotal !== null) store.set(sec - 1, Math.max(0, total - lastTotal));
        lastTotal = total;
        note.textContent = "bars: this namespace, counted from its pokes; line: every namespace, from GET /metrics";
      } catch (e) {
        metricsOn = false;      // not served to this browser: the namespace's own rate only
        metricsServed = false;  // and not asked again until the page reloads
        storeLabel.textContent = "";
      }
    };
    const draw = () => {
      const now = Math.floor(Date.now() / 1000);
      for (const map of [counts, store]) for (const k of map.keys()) if (k < now - RATE_SECONDS) map.delete(k);
      const vals = [];
      const line = [];
      for (let s = now - RATE_SECONDS + 1; s <= now; s++) {
        vals.push(counts.get(s) || 0);
        line.push(store.has(s) ? store.get(s) : null);
      }
      const last = counts.get(now - 1) || 0;
      label.textContent = last.toLocaleString("en-US") + " writes/s";
      if (metricsOn && store.has(now - 2)) {
        storeLabel.textContent = "store: " + store.get(now - 2).toLocaleString("en-US") + "/s";
      }
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth || 600;
      const h = canvas.clientHeight || 120;
      if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
      const g = canvas.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const max = Math.max(1, ...vals, ...line.filter((v) => v !== null));
      const bw = w / vals.length;
      const style = getComputedStyle(canvas);
      const y = (v) => h - Math.round((v / max) * (h - 16));
      g.fillStyle = style.color;
      vals.forEach((v, i) => { g.fillRect(i * bw + 1, y(v), Math.max(1, bw - 2), h - y(v)); });
      g.strokeStyle = style.getPropertyValue("--line-color").trim() || "#b3261e";
      g.lineWidth = 2;
      g.beginPath();
      let pen = false;
      line.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        const x = i * bw + bw / 2;
        if (pen) g.lineTo(x, y(v)); else g.moveTo(x, y(v));
        pen = true;
      });
      g.stroke();
      g.fillStyle = style.getPropertyValue("--muted").trim() || "#888";
      g.font = "11px sans-serif";
      g.fillText("max " + max.toLocaleString("en-US") + "/s", 4, 11);
    };
    const timer = setInterval(() => { scrape(); draw(); }, 1000);
    onLeave(() => clearInterval(timer));
    scrape();
    requestAnimationFrame(draw);
    return {
      node: box,
      count(n) {
        const s = Math.floor(Date.now() / 1000);
        counts.set(s, (counts.get(s) || 0) + (n || 1));
      },
    };
  }

  /* ---------------------------------------------------------------- views */

  async function viewHome() {
    navigate("#/categories", true);
  }

  async function viewNamespaces(arg, q, isCurrent) {
    await adminKnown;
    if (!session.admin) {
      page(isCurrent, "Namespaces", el("p", { class: "empty",
        text: "Listing namespaces needs the default namespace's token." }));
      return;
    }
    const list = await rpc("ns.list");
    const rows = list.map((n) => el("tr", { class: "item" },
      el("td", {}, el("span", { class: "name" }, n.namespace)),
      el("td", {}, n.description),
      el("td", { class: "n" }, num(n.messageCount)),
      el("td", {}, el("time", {}, n.createdAt)),
      el("td", {}, el("button", { type: "button", class: "small", onclick: async (ev) => {
        const info = await rpc("ns.info", n.namespace);
        const cell = ev.target.parentNode;
        clear(cell);
        cell.append(el("span", { class: "hint" }, num(info.streamCount) + " streams, last write " + (info.lastActivity || "never")));
      } }, "Details"))));
    page(isCurrent, "Namespaces",
      el("p", { class: "hint" }, "Every namespace of this store. Browsing one needs its own token."),
      table(["Namespace", "Description", "Messages", "Created", ""], rows));
  }

  async function viewCategories(arg, q, isCurrent) {
    // The counts are aggregates over the whole namespace (seconds at millions
    // of messages): the page and its live chart show at once, counts follow.
    const chart = rateChart();
    const summary = el("p", { class: "summary" }, el("span", { class: "hint" }, "Counting messages…"));
    const holder = el("div", { id: "categories" }, el("p", { class: "loading", text: "Counting categories…" }));
    if (!page(isCurrent, "Categories", summary, chart.node, holder)) return;
    liveFeed(() => chart.count(1), () => {});
    const infoDone = rpc("ns.info", session.namespace).then((info) => {
      if (!isCurrent()) return;
      clear(summary);
      append(summary, [num(info.messageCount), " messages in ", num(info.streamCount), " streams; last write ",
        info.lastActivity || "never"]);
    }, () => { summary.remove(); });
    const cats = await rpc("ns.categories");
    if (!isCurrent()) return;
    // Streams whose name starts with "-" have the category "" - which, asked
    // for as a category, means the whole namespace: they are listed as
    // streams instead, and there is no tail of them alone.
    const rows = cats.map((c) => el("tr", { class: "item" },
      el("td", {}, c.category === ""
        ? el("a", { href: link("streams", null, { prefix: "-" }) }, "(no category)")
        : el("a", { href: link("category", c.category) }, c.category)),
      el("td", { class: "n" }, num(c.messageCount)),
      el("td", { class: "n" }, num(c.streamCount)),
      el("td", {}, el("a", { href: link("streams", null, { prefix: c.category + "-" }) }, "streams"),
        c.category === "" ? null : " · ",
        c.category === "" ? null : el("a", { href: link("tail", null, { category: c.category }) }, "tail"))));
    clear(holder);
    holder.append(table(["Category", "Messages", "Streams", ""], rows, "This namespace has no messages yet."));
    await infoDone;
  }

  // Cursor paging needs the way back: the pages seen on the way forward.
  const trails = new Map();

  function trail(key) {
    if (!trails.has(key)) trails.set(key, []);
    return trails.get(key);
  }

  async function viewStreams(arg, q, isCurrent) {
    const search = el("input", { type: "search", id: "stream-prefix", value: q.get("prefix") || "",
      placeholder: "prefix, e.g. account-", "aria-label": "Stream name prefix", dataset: { search: "1" },
      autocomplete: "off", spellcheck: "false" });
    const results = el("div", { id: "stream-results" });
    let asked = 0;
    // Typing narrows the list in place (the hash follows without a new
    // history entry), so the search box keeps its focus and caret.
    const load = async (prefix, after) => {
      const mine = ++asked;
      const rows = await rpc("ns.streams", { prefix, limit: STREAMS_PAGE, cursor: after });
      if (mine !== asked || !isCurrent()) return null;
      const seen = trail("streams:" + prefix);
      // the trail holds cursors of earlier pages; trim it back to this one
      const at = seen.indexOf(after);
      if (at >= 0) seen.length = at; else if (!after) seen.length = 0;
      const prevCursor = after ? (seen.length ? seen[seen.length - 1] : "") : null;
      const next = rows.length === STREAMS_PAGE ? rows[rows.length - 1].stream : null;
      const nextHash = next !== null ? link("streams", null, { prefix, after: next }) : null;
      const prevHash = prevCursor !== null ? link("streams", null, { prefix, after: prevCursor }) : null;
      clear(results);
      append(results, [
        table(["Stream", "Version", "Last write", ""], rows.map((s) => el("tr", { class: "item" },
          el("td", {}, el("a", { href: link("stream", s.stream), class: "name" }, s.stream)),
          el("td", { class: "n" }, num(s.version)),
          el("td", {}, el("time", {}, s.lastActivity)),
          el("td", {}, el("a", { href: link("tail", null, { stream: s.stream }) }, "tail")))),
        prefix ? "No stream starts with that prefix." : "No streams yet."),
        pager(prevHash, nextHash, null, () => { seen.push(after); })]);
      document.documentElement.dataset.streamsPrefix = prefix;
      return rows;
    };
    let timer = null;
    const narrow = () => {
      clearTimeout(timer);
      history.replaceState(null, "", link("streams", null, { prefix: search.value }));
      load(search.value, "").catch((e) => say(e.message, "error"));
    };
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(narrow, 200); });
    search.addEventListener("keydown", (ev) => { if (ev.key === "Enter") narrow(); });
    onLeave(() => clearTimeout(timer));
    await load(q.get("prefix") || "", q.get("after") || "");
    page(isCurrent, "Streams", el("div", { class: "toolbar" }, search), results);
  }

  async function viewStream(name, q, isCurrent) {
    if (!name) { navigate("#/streams", true); return; }
    const pos = Math.max(0, intParam(q, "pos", 0));
    const [version, raw] = await Promise.all([
      rpc("stream.version", name),
      rpc("stream.get", name, { position: pos, batchSize: PAGE }),
    ]);
    const msgs = raw.map((a) => message(a, name));
    const v = version === null ? -1 : Number(version);
    const at = (p) => link("stream", name, { pos: p });
    const prev = pos > 0 ? at(Math.max(0, pos - PAGE)) : null;
    const next = msgs.length && Number(msgs[msgs.length - 1].position) < v ? at(Number(msgs[msgs.length - 1].position) + 1) : null;
    const lastStart = Math.max(0, v - PAGE + 1);
    const goto = el("form", { class: "goto", onsubmit: (ev) => {
      ev.preventDefault();
      navigate(at(Math.max(0, Number(gotoInput.value) || 0)));
    } });
    const gotoInput = el("input", { type: "number", min: "0", value: String(pos), "aria-label": "Go to position", class: "narrow" });
    append(goto, ["Position ", gotoInput, " ", el("button", { type: "submit" }, "Go")]);
    const cat = categoryOf(name);
    const head = el("div", { class: "meta" },
      el("span", {}, "category ", cat === ""
        ? el("a", { href: link("streams", null, { prefix: "-" }) }, "(none)")
        : el("a", { href: link("category", cat) }, cat)),
      el("span", {}, v < 0 ? "empty stream" : "version " + v + " (" + (v + 1).toLocaleString("en-US") + " messages)"),
      el("span", {}, msgs.length ? "showing " + String(msgs[0].position) + "–" + String(msgs[msgs.length - 1].position) : ""),
      el("a", { href: link("tail", null, { stream: name }) }, "Live tail"),
      copyButton("Copy link", () => location.href, "link"));
    page(isCurrent, "Stream " + name, head,
      el("div", { class: "toolbar" }, goto,
        pager(prev, next, { first: pos > 0 ? at(0) : null, last: v >= 0 && pos < lastStart ? at(lastStart) : null })),
      messageList(msgs, false),
      msgs.length > 5 ? pager(prev, next) : null);
    main.querySelector("h1").classList.add("wrap");
  }

  async function viewCategory(name, q, isCurrent) {
    name = name || "";
    const pos = Math.max(1, intParam(q, "pos", 1));
    const member = q.get("member") || "";
    const size = q.get("size") || "";
    const correlation = q.get("correlation");
    const opts = { position: pos, batchSize: PAGE };
    if (member !== "" || size !== "") opts.consumerGroup = { member: Number(member), size: Number(size) };
    if (correlation !== null && correlation !== "") opts.correlation = correlation;
    const filters = { member, size, correlation };
    const raw = await rpc("category.get", name, opts);
    const msgs = raw.map((a) => message(a));
    const key = "category:" + name + "|" + member + "|" + size + "|" + (correlation || "");
    const seen = trail(key);
    const i = seen.indexOf(pos);
    if (i >= 0) seen.length = i; else if (pos === 1) seen.length = 0;
    const at = (p) => link("category", name, { pos: p, ...filters });
    const prev = seen.length ? at(seen[seen.length - 1]) : (pos > 1 ? at(1) : null);
    const next = msgs.length === PAGE ? at(Number(msgs[msgs.length - 1].globalPosition) + 1) : null;

    const f = (id, label, value, attrs) => [el("label", { for: id }, label),
      el("input", { id, name: id, value: value || "", autocomplete: "off", ...attrs })];
    const form = el("form", { class: "filters", onsubmit: (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      navigate(link("category", name, { pos: data.get("pos") || 1, member: data.get("member"),
        size: data.get("size"), correlation: data.get("correlation") }));
    } },
      f("pos", "From global position", String(pos), { type: "number", min: "1", class: "narrow" }),
      f("member", "Consumer member", member, { type: "number", min: "0", class: "narrow" }),
      f("size", "of group size", size, { type: "number", min: "1", class: "narrow" }),
      f("correlation", "Correlation category", correlation, { type: "text", spellcheck: "false" }),
      el("button", { type: "submit" }, "Apply"));
    const onNext = () => { seen.push(pos); };
    const pg = pager(prev, next, { first: pos > 1 ? at(1) : null }, onNext);
    page(isCurrent, name === "" ? "All messages" : "Category " + name,
      el("div", { class: "meta" },
        el("span", {}, msgs.length ? "global positions " + String(msgs[0].globalPosition) + "–" + String(msgs[msgs.length - 1].globalPosition) : ""),
        el("a", { href: link("tail", null, name === "" ? { all: 1 } : { category: name }) }, "Live tail"),
        copyButton("Copy link", () => location.href, "link")),
      form, pg, messageList(msgs, true), msgs.length > 5 ? pager(prev, next, null, onNext) : null);
  }

  async function viewTail(arg, q, isCurrent) {
    const stream = q.get("stream");
    const category = q.get("category");
    const all = q.get("all");
    const mode = stream !== null ? "stream" : category !== null ? "category" : all ? "all" : null;
    const modeSel = el("select", { id: "tail-mode", "aria-label": "What to tail" },
      el("option", { value: "stream", selected: mode === "stream" }, "Stream"),
      el("option", { value: "category", selected: mode === "category" }, "Category"),
      el("option", { value: "all", selected: mode === "all" }, "Whole namespace"));
    const nameIn = el("input", { id: "tail-name", value: stream !== null ? stream : category || "",
      placeholder: "stream or category name", "aria-label": "Name", autocomplete: "off", spellcheck: "false" });
    const form = el("form", { class: "toolbar", onsubmit: (ev) => {
      ev.preventDefault();
      const m = modeSel.value;
      navigate(link("tail", null, m === "all" ? { all: 1 } : { [m]: nameIn.value }));
    } }, modeSel, nameIn, el("button", { type: "submit", id: "tail-start" }, mode ? "Restart" : "Start"));
    if (!mode) {
      page(isCurrent, "Live tail", form,
        el("p", { class: "hint" }, "Shows messages as they are written: a stream, a category or the whole namespace."));
      return;
    }
    const title = mode === "stream" ? "Tail of stream " + stream : mode === "category" ? "Tail of category " + category : "Tail of the namespace";
    const state = el("span", { class: "state", id: "tail-state" }, "connecting");
    const list = el("div", { class: "msgs tail", id: "tail-list", "aria-live": "polite" });
    const waiting = el("p", { class: "empty", text: "Waiting for new messages…" });
    const chart = rateChart();
    let next = null;        // stream: next position; else the lowest global position poked but not read
    let shown = new Set();
    let busy = false;
    let again = false;
    let pending = null;
    let newest = null;      // highest global position shown
    let everLive = false;
    // Nothing shown yet when the feed comes back: read from the time the
    // tail opened (a little earlier: the browser's clock may be ahead).
    const openedAt = new Date(Date.now() - TAIL_CLOCK_SLACK_MS).toISOString();
    const resumeFromOpening = async () => {
      try {
        const p = await rpc("category.positionAt", mode === "all" ? "" : category, openedAt);
        if (p === null || !isCurrent()) return;
        pending = pending === null ? Number(p) : Math.min(pending, Number(p));
        read();
      } catch (e) {
        state.textContent = "error: " + e.message;
      }
    };
    if (mode === "stream") {
      const v = await rpc("stream.version", stream);
      next = v === null ? 0 : Number(v) + 1;
    }
    if (!page(isCurrent, title, form, el("div", { class: "meta" }, state,
      el("span", { class: "hint" }, "new messages appear on top; the newest " + TAIL_KEEP + " stay")), chart.node, waiting, list)) return;

    const read = async () => {
      if (busy) { again = true; return; }
      busy = true;
      try {
        do {
          again = false;
          let batch;
          if (mode === "stream") {
            batch = (await rpc("stream.get", stream, { position: next, batchSize: 100 })).map((a) => message(a, stream));
            if (batch.length) next = Number(batch[batch.length - 1].position) + 1;
          } else {
            if (pending === null) break;
            const from = pending;
            pending = null;
            batch = (await rpc("category.get", mode === "all" ? "" : category, { position: from, batchSize: 100 })).map((a) => message(a));
            if (batch.length === 100) pending = Number(batch[batch.length - 1].globalPosition) + 1;
          }
          if (!isCurrent()) return;
          for (const m of batch) {
            const k = String(m.globalPosition);
            if (shown.has(k)) continue;
            shown.add(k);
            newest = Math.max(newest === null ? 0 : newest, Number(m.globalPosition));
            waiting.remove();
            list.prepend(messageCard(m, mode !== "stream"));
          }
          while (list.childElementCount > TAIL_KEEP) {
            shown.delete(list.lastElementChild.dataset.gp);
            list.lastElementChild.remove();
          }
          if (pending !== null) again = true;
        } while (again);
      } catch (e) {
        state.textContent = "error: " + e.message;
      } finally {
        busy = false;
      }
    };
    liveFeed((p) => {
      chart.count(1);
      const mine = mode === "all" || (mode === "stream" ? p.stream === stream : categoryOf(p.stream) === category);
      if (!mine) return;
      if (mode !== "stream" && !shown.has(String(p.globalPosition))) {
        pending = pending === null ? p.globalPosition : Math.min(pending, p.globalPosition);
      }
      read();
    }, (s) => {
      state.textContent = s;
      state.dataset.state = s;
      // after a reconnect, read what was written while the stream was down
      if (s === "live" && mode === "stream") read();
      if (s === "live" && mode !== "stream" && newest !== null) {
        pending = pending === null ? newest + 1 : Math.min(pending, newest + 1);
        read();
      } else if (s === "live" && mode !== "stream" && everLive) {
        resumeFromOpening();
      }
      if (s === "live") everLive = true;
    });
  }

  async function viewSubscriptions(arg, q, isCurrent) {
    const render = async () => {
      const subs = await rpc("subscription.list");
      const rows = subs.map((s) => el("tr", { class: "item" },
        el("td", {}, el("a", { href: link("subscription", s.name), class: "name" }, s.name)),
        el("td", {}, s.category === "" ? "(all)" : s.category),
        el("td", {}, s.types.length ? s.types.join(", ") : "all types"),
        el("td", {}, s.strategy),
        el("td", { class: "n" }, String(s.checkpoint)),
        el("td", { class: "n" + (s.lag > 0 ? " warn" : "") }, num(s.lag)),
        el("td", { class: "n" }, num(s.inFlight)),
        el("td", { class: "n" + (s.parked > 0 ? " bad" : "") }, num(s.parked)),
        el("td", { class: "n" }, num(s.consumers.length))));
      return table(["Name", "Category", "Types", "Strategy", "Checkpoint", "Lag", "In flight", "Parked", "Consumers"],
        rows, "No persistent subscriptions in this namespace (see subscription.create).");
    };
    const holder = el("div", {}, await render());
    if (!page(isCurrent, "Subscriptions", el("p", { class: "hint" }, "Refreshed every 2 s."), holder)) return;
    const timer = setInterval(async () => {
      try {
        const t = await render();
        if (!isCurrent()) return;
        const rows = [...holder.querySelectorAll(".item")];
        const at = rows.indexOf(document.activeElement && document.activeElement.closest(".item"));
        clear(holder);
        holder.append(t);
        const again = at >= 0 ? holder.querySelectorAll(".item")[at] : null;
        if (again) (again.querySelector("a") || again).focus({ preventScroll: true });
      } catch (e) { say(e.message, "error"); }
    }, 2000);
    onLeave(() => clearInterval(timer));
  }

  async function viewSubscription(name, q, isCurrent) {
    const from = Math.max(0, intParam(q, "from", 0));
    const infoBox = el("div", {});
    const renderInfo = async () => {
      const s = await rpc("subscription.get", name);
      const dl = el("dl", { class: "facts" });
      const fact = (k, v, cls) => append(dl, [el("dt", {}, k), el("dd", { class: cls || "" }, v)]);
      fact("Category", s.category === "" ? "(all)" : s.category);
      fact("Types", s.types.length ? s.types.join(", ") : "all");
      fact("Strategy", s.strategy);
      fact("Checkpoint", String(s.checkpoint));
      fact("Lag", num(s.lag), s.lag > 0 ? "warn" : "");
      fact("In flight", num(s.inFlight));
      fact("Parked", num(s.parked), s.parked > 0 ? "bad" : "");
      fact("Max in flight / deliveries", num(s.maxInFlight) + " / " + num(s.maxDeliveries));
      fact("Ack timeout", num(s.ackTimeoutMs) + " ms");
      fact("Created", s.createdAt);
      const consumers = table(["Consumer", "In flight", "Last seen"], s.consumers.map((c) => el("tr", {},
        el("td", {}, c.consumerId), el("td", { class: "n" }, num(c.inFlight)), el("td", {}, c.lastSeen))),
      "No active consumers.");
      return [dl, el("h2", {}, "Active consumers"), consumers];
    };
    const parked = await rpc("subscription.parked", name, { position: from, batchSize: PAGE });
    append(infoBox, await renderInfo());
    const replay = (positions, button) => async () => {
      if (button.dataset.armed !== "1") {
        button.dataset.armed = "1";
        button.textContent = "Confirm replay";
        return;
      }
      const r = await rpc("subscription.replayParked", name, positions ? { globalPositions: positions } : {});
      say("Replayed " + r.replayed + " parked message" + (r.replayed === 1 ? "" : "s"));
      route();
    };
    const allBtn = el("button", { type: "button", id: "replay-all", disabled: !parked.length });
    allBtn.textContent = "Replay all parked";
    allBtn.addEventListener("click", replay(null, allBtn));
    const entries = parked.map((p) => {
      const m = message(p.message);
      const b = el("button", { type: "button", class: "small" }, "Replay");
      b.addEventListener("click", replay([Number(m.globalPosition)], b));
      const card = messageCard(m, true);
      card.querySelector("header").append(el("span", { class: "bad" }, "parked " + p.parkedAt + " after " + p.attempts + " attempts: " + (p.reason || "(no reason)")), b);
      return card;
    });
    const next = parked.length === PAGE ? link("subscription", name, { from: Number(message(parked[parked.length - 1].message).globalPosition) + 1 }) : null;
    // the way back is the trail of pages seen on the way forward, as in the category view
    const seen = trail("parked:" + name);
    const i = seen.indexOf(from);
    if (i >= 0) seen.length = i; else if (from <= 0) seen.length = 0;
    const prev = seen.length ? link("subscription", name, { from: seen[seen.length - 1] })
      : (from > 0 ? link("subscription", name) : null);
    if (!page(isCurrent, "Subscription " + name, infoBox,
      el("h2", {}, "Parked messages"),
      el("div", { class: "toolbar" }, allBtn, pager(prev, next, null, () => { seen.push(from); })),
      entries.length ? el("div", { class: "msgs" }, entries) : el("p", { class: "empty", text: "Nothing parked." }))) return;
    const timer = setInterval(async () => {
      try {
        const kids = await renderInfo();
        if (isCurrent()) { clear(infoBox); append(infoBox, kids); }
      } catch (e) { say(e.message, "error"); }
    }, 2000);
    onLeave(() => clearInterval(timer));
  }

  /* ------------------------------------------------------------- keyboard */

  const goKeys = { c: "#/categories", s: "#/streams", t: "#/tail", u: "#/subscriptions", n: "#/namespaces" };
  let gPressed = 0;

  function items() {
    return [...main.querySelectorAll(".item")];
  }

  function focusItem(delta) {
    const list = items();
    if (!list.length) return;
    const active = document.activeElement && document.activeElement.closest(".item");
    let i = list.indexOf(active);
    i = i < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, i + delta));
    const target = list[i].matches("tr") ? list[i].querySelector("a, button") || list[i] : list[i];
    target.focus();
    list[i].scrollIntoView({ block: "nearest" });
  }

  function toggleHelp() {
    let d = document.getElementById("help");
    if (!d) {
      d = el("dialog", { id: "help", "aria-label": "Keyboard shortcuts" },
        el("h2", {}, "Keyboard"),
        el("dl", { class: "facts" }),
        el("button", { type: "button", onclick: () => d.close() }, "Close"));
      const dl = d.querySelector("dl");
      for (const [k, v] of [["g c", "categories"], ["g s", "streams"], ["g t", "live tail"], ["g u", "subscriptions"],
        ["g n", "namespaces"], ["/", "search / first field"], ["j / k", "next / previous row or message"],
        ["Enter", "open the focused link"], ["o", "expand or collapse the focused message"],
        ["[ / ]", "previous / next page"], ["r", "reload the view"], ["Esc", "close this"]]) {
        append(dl, [el("dt", {}, el("kbd", {}, k)), el("dd", {}, v)]);
      }
      document.body.append(d);
    }
    if (d.open) d.close(); else d.showModal();
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.matches("input, textarea, select") || t.isContentEditable)) {
      if (ev.key === "Escape") t.blur();
      return;
    }
    if (!session.token) return;
    const now = Date.now();
    if (gPressed && now - gPressed < 1500 && goKeys[ev.key]) {
      gPressed = 0;
      ev.preventDefault();
      navigate(goKeys[ev.key]);
      return;
    }
    gPressed = 0;
    switch (ev.key) {
      case "g": gPressed = now; break;
      case "j": focusItem(1); break;
      case "k": focusItem(-1); break;
      case "/": {
        const s = main.querySelector("[data-search], input");
        if (s) { ev.preventDefault(); s.focus(); s.select && s.select(); }
        break;
      }
      case "o": {
        const card = document.activeElement && document.activeElement.closest(".msg");
        if (card) {
          const ds = card.querySelectorAll("details");
          const open = ![...ds].some((d) => d.open);
          ds.forEach((d) => { d.open = open; });
        }
        break;
      }
      case "[": case "]": {
        const a = main.querySelector("a[data-page=" + (ev.key === "[" ? "prev" : "next") + "]");
        if (a) a.click();
        break;
      }
      case "r": route(); break;
      case "?": toggleHelp(); break;
      default: return;
    }
  });

  /* ---------------------------------------------------------------- start */

  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    session.namespace = null;
    session.admin = false;
    updateChrome();
    navigate("#/signin");
  });
  window.addEventListener("hashchange", route);

  // The first view does not wait for ns.list: only the namespaces view needs
  // to know whether this token may list them.
  session.namespace = tokenNamespace(session.token || "");
  updateChrome();
  if (session.token) adminKnown = learnSession();
  route();
})();
