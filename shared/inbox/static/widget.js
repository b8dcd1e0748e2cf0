/* Souq chat widget: served at /api/widget/v1/widget.js, plain JavaScript, no build step.
 *
 * Embed (docs/inbox.md, "The web chat widget"):
 *   <script src="https://<app>/api/widget/v1/widget.js" data-widget-token="<widget token>" async></script>
 * Optional attributes: data-locale="ar|en" (default: the page's lang), and for a signed-in
 * customer data-identifier="<your id>" data-identifier-signature="<hex HMAC-SHA256 of it with the
 * widget secret>" (computed on your server, never in the browser).
 *
 * A bubble opens a chat panel (Escape closes it and returns focus to the bubble). The visitor
 * token is kept in localStorage, so a reload continues the same conversation. New messages are
 * polled every second while the panel is open, every ten seconds while it is closed.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__souqWidgetLoaded) { return; }
  window.__souqWidgetLoaded = true;

  var WIDGET_TOKEN = script.getAttribute("data-widget-token") || "";
  var API = new URL("/api", script.src).href;
  var IDENTIFIER = script.getAttribute("data-identifier") || "";
  var SIGNATURE = script.getAttribute("data-identifier-signature") || "";
  var STORE_KEY = "souq-widget:" + WIDGET_TOKEN;
  var OPEN_POLL_MS = 1000;
  var IDLE_POLL_MS = 10000;

  var TEXTS = {
    en: {
      open: "Open chat", close: "Close chat", title: "Chat with us", greeting: "Hi! How can we help you today?",
      label: "Your message", placeholder: "Type a message…", send: "Send", you: "You", agent: "Support",
      sending: "Sending…", failed: "Not sent. Check your connection and try again.",
      tooFast: "You are sending messages too quickly. Try again in {s} s.",
      closed: "This conversation was closed. Write again to start a new one.", newConversation: "New conversation",
      unavailable: "Chat is unavailable right now.", unread: "{n} new"
    },
    ar: {
      open: "افتح المحادثة", close: "أغلق المحادثة", title: "تحدث معنا", greeting: "مرحبًا! كيف يمكننا مساعدتك اليوم؟",
      label: "رسالتك", placeholder: "اكتب رسالة…", send: "إرسال", you: "أنت", agent: "الدعم",
      sending: "جارٍ الإرسال…", failed: "لم تُرسل. تحقق من الاتصال وحاول مرة أخرى.",
      tooFast: "ترسل الرسائل بسرعة كبيرة. حاول مرة أخرى بعد {s} ث.",
      closed: "أُغلقت هذه المحادثة. اكتب مجددًا لبدء محادثة جديدة.", newConversation: "محادثة جديدة",
      unavailable: "المحادثة غير متاحة الآن.", unread: "{n} جديدة"
    }
  };
  var pageLang = (script.getAttribute("data-locale") || document.documentElement.lang || navigator.language || "en");
  var LOCALE = pageLang.toLowerCase().indexOf("ar") === 0 ? "ar" : "en";
  var T = TEXTS[LOCALE];

  var STYLE = [
    ":host{all:initial}",
    ".root{position:fixed;inset-block-end:20px;inset-inline-end:20px;z-index:2147483000;",
    "font:15px/1.4 system-ui,-apple-system,'Segoe UI',Tahoma,sans-serif;color:#1d2327}",
    ".bubble{width:56px;height:56px;border-radius:50%;border:0;background:#0b6e4f;color:#fff;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25);font-size:26px;position:relative}",
    ".bubble:focus-visible,.send:focus-visible,.x:focus-visible{outline:3px solid #f0b429;outline-offset:2px}",
    ".badge{position:absolute;inset-block-start:-4px;inset-inline-end:-4px;background:#b42318;color:#fff;",
    "border-radius:10px;font-size:12px;padding:1px 6px}",
    ".panel{width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 120px);background:#fff;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;",
    "margin-block-end:12px}",
    ".panel[hidden]{display:none}",
    ".head{background:#0b6e4f;color:#fff;padding:10px 14px;display:flex;align-items:center;gap:8px}",
    ".head h2{font-size:16px;margin:0;flex:1}",
    ".x{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f6f7f7}",
    ".msg{max-width:80%;padding:7px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".msg[data-direction=IN]{align-self:flex-end;background:#0b6e4f;color:#fff}",
    ".msg[data-direction=OUT]{align-self:flex-start;background:#fff;border:1px solid #dcdcde}",
    ".msg[data-state=sending]{opacity:.6}.msg[data-state=failed]{outline:2px solid #b42318}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".note{font-size:13px;color:#50575e;text-align:center;padding:4px}",
    ".status{font-size:13px;color:#b42318;padding:0 12px}",
    "form{display:flex;gap:6px;padding:10px;border-block-start:1px solid #dcdcde}",
    "textarea{flex:1;resize:none;font:inherit;padding:6px 8px;border:1px solid #8c8f94;border-radius:8px;height:40px}",
    ".send{background:#0b6e4f;color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer;font:inherit}"
  ].join("");

  // ---- state --------------------------------------------------------------------------

  var state = { session: null, cursor: "", seen: {}, open: false, unread: 0, lastConversation: null, timer: null };

  function loadSession() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (saved && saved.token && saved.identifier === IDENTIFIER && Date.parse(saved.expires_at) > Date.now()) {
        return saved;
      }
    } catch (ignored) { /* storage blocked or corrupt: start a new session */ }
    return null;
  }

  function saveSession(session) {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(session)); } catch (ignored) { /* private mode */ }
  }

  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- the API ------------------------------------------------------------------------

  function request(method, path, body, token) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (token) { headers["Authorization"] = "Bearer " + token; }
    return fetch(API + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), mode: "cors", credentials: "omit" })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (ignored) { /* not JSON */ }
          return { status: response.status, data: data, retryAfter: response.headers.get("Retry-After") };
        });
      });
  }

  function startSession() {
    var body = IDENTIFIER && SIGNATURE ? { identity: { identifier: IDENTIFIER, signature: SIGNATURE } } : {};
    return request("POST", "/widget/" + encodeURIComponent(WIDGET_TOKEN) + "/sessions", body).then(function (r) {
      if (r.status !== 201) { throw new Error("session " + r.status); }
      var session = { token: r.data.visitor_token, expires_at: r.data.expires_at, identifier: IDENTIFIER,
                      display_name: r.data.display_name };
      saveSession(session);
      state.session = session; state.cursor = ""; state.seen = {};
      return session;
    });
  }

  function ensureSession() {
    if (state.session) { return Promise.resolve(state.session); }
    var saved = loadSession();
    if (saved) { state.session = saved; return Promise.resolve(saved); }
    return startSession();
  }

  // A 401 means the token is no longer good (expired, widget rotated): one new session, then once more.
  function authorized(method, path, body) {
    return ensureSession().then(function (session) {
      return request(method, path, body, session.token).then(function (r) {
        if (r.status !== 401) { return r; }
        state.session = null;
        return startSession().then(function (fresh) { return request(method, path, body, fresh.token); });
      });
    });
  }

  // ---- the DOM ------------------------------------------------------------------------

  var host = document.createElement("div");
  host.setAttribute("data-souq-widget", "");
  var shadow = host.attachShadow({ mode: "open" });
  var root = el("div", { "class": "root", dir: LOCALE === "ar" ? "rtl" : "ltr", lang: LOCALE });
  var panelId = "souq-chat-panel";
  var panel = el("section", { "class": "panel", id: panelId, role: "dialog", "aria-modal": "false", "aria-labelledby": "souq-chat-title", hidden: "" });
  var title = el("h2", { id: "souq-chat-title" }, T.title);
  var closeButton = el("button", { "class": "x", type: "button", "aria-label": T.close }, "×");
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": T.title, tabindex: "0" });
  var status = el("div", { "class": "status", role: "status", "aria-live": "assertive" });
  var form = el("form", { novalidate: "" });
  var inputId = "souq-chat-input";
  var input = el("textarea", { id: inputId, rows: "1", maxlength: "2000", placeholder: T.placeholder, "aria-label": T.label });
  var sendButton = el("button", { "class": "send", type: "submit" }, T.send);
  var bubble = el("button", { "class": "bubble", type: "button", "aria-label": T.open, "aria-expanded": "false", "aria-controls": panelId }, "💬");
  var badge = el("span", { "class": "badge", hidden: "" });

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function mount() {
    var style = document.createElement("style");
    style.textContent = STYLE;
    var head = el("div", { "class": "head" });
    head.appendChild(title); head.appendChild(closeButton);
    log.appendChild(el("p", { "class": "note" }, T.greeting));
    form.appendChild(input); form.appendChild(sendButton);
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(status); panel.appendChild(form);
    bubble.appendChild(badge);
    root.appendChild(panel); root.appendChild(bubble);
    shadow.appendChild(style); shadow.appendChild(root);
    document.body.appendChild(host);
    bubble.addEventListener("click", function () { setOpen(!state.open); });
    closeButton.addEventListener("click", function () { setOpen(false); });
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.open) { event.preventDefault(); setOpen(false); }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); send(); });
  }

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? T.close : T.open);
    if (open) {
      state.unread = 0; showBadge();
      input.focus();
      log.scrollTop = log.scrollHeight;
    } else {
      bubble.focus();
    }
    schedule(0);
  }

  function showBadge() {
    badge.hidden = state.unread === 0;
    badge.textContent = String(state.unread);
    badge.setAttribute("aria-label", T.unread.replace("{n}", state.unread));
  }

  function say(text) { status.textContent = text || ""; }

  // ---- messages -----------------------------------------------------------------------

  function render(message, node) {
    node = node || el("div", { "class": "msg" });
    node.setAttribute("data-direction", message.direction);
    node.setAttribute("data-state", message.state || "sent");
    if (message.id !== undefined && message.id !== null) { node.setAttribute("data-message-id", String(message.id)); }
    if (message.conversation_id) { node.setAttribute("data-conversation-id", message.conversation_id); }
    node.textContent = "";
    node.appendChild(el("span", { "class": "sr" }, (message.direction === "IN" ? T.you : T.agent) + ": "));
    node.appendChild(document.createTextNode(message.text));
    return node;
  }

  function append(message) {
    var key = String(message.id);
    if (state.seen[key]) { return false; }
    state.seen[key] = true;
    var pending = message.client_id ? log.querySelector('[data-client-id="' + message.client_id + '"]') : null;
    if (pending) { render(message, pending); return false; }
    if (state.lastConversation && message.conversation_id !== state.lastConversation) {
      log.appendChild(el("p", { "class": "note", role: "separator" }, T.newConversation));
    }
    state.lastConversation = message.conversation_id;
    log.appendChild(render(message));
    return message.direction === "OUT";
  }

  function showConversationStatus(conversation) {
    var closedNote = log.querySelector(".closed-note");
    if (closedNote) { closedNote.remove(); }
    if (conversation && conversation.status === "CLOSED") {
      log.appendChild(el("p", { "class": "note closed-note" }, T.closed));
    }
  }

  function poll() {
    var query = state.cursor ? "?after=" + encodeURIComponent(state.cursor) : "";
    return authorized("GET", "/widget/messages" + query).then(function (r) {
      if (r.status !== 200) { return; }
      var history = !state.cursor;  // the first poll shows the history: nothing in it is new
      var fresh = 0;
      r.data.messages.forEach(function (message) { if (append(message)) { fresh += 1; } });
      if (r.data.cursor) { state.cursor = r.data.cursor; }
      showConversationStatus(r.data.conversation);
      if (fresh && !state.open && !history) { state.unread += fresh; showBadge(); }
      if (fresh || r.data.messages.length) { log.scrollTop = log.scrollHeight; }
    });
  }

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      poll().catch(function () { /* offline: the next poll tries again */ }).then(function () {
        schedule(state.open && !document.hidden ? OPEN_POLL_MS : IDLE_POLL_MS);
      });
    }, delay);
  }

  function send() {
    var text = input.value.trim();
    if (!text) { return; }
    var clientId = uuid4();
    var node = render({ direction: "IN", text: text, state: "sending" });
    node.setAttribute("data-client-id", clientId);
    log.appendChild(node); log.scrollTop = log.scrollHeight;
    input.value = ""; say("");
    deliver(node, { client_id: clientId, text: text }, text);
  }

  function deliver(node, body, text) {
    authorized("POST", "/widget/messages", body).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        r.data.client_id = body.client_id;
        state.seen[String(r.data.id)] = true;
        render(r.data, node);
        var closedNote = log.querySelector(".closed-note");
        if (closedNote) { closedNote.remove(); }
        if (state.lastConversation && r.data.conversation_id !== state.lastConversation) {
          log.insertBefore(el("p", { "class": "note", role: "separator" }, T.newConversation), node);
        }
        state.lastConversation = r.data.conversation_id;
        schedule(OPEN_POLL_MS);
        return;
      }
      node.remove();
      input.value = text;
      say(r.status === 429 ? T.tooFast.replace("{s}", r.retryAfter || "60") : T.unavailable);
    }).catch(function () {
      node.setAttribute("data-state", "failed");
      input.value = text;
      say(state.session ? T.failed : T.unavailable);  // no session: the widget itself is unavailable
    });
  }

  function start() {
    mount();
    ensureSession().then(function (session) {
      if (session.display_name) { title.textContent = session.display_name; }
      schedule(0);
    }).catch(function () { say(T.unavailable); });
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { schedule(0); } });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
