/* The visitor's chat window. Text only: every message is put in the page with textContent. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("kefu-rt-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var KEY = "kefu-chat-visit";
  var saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
  var rt = null, conv = null, shown = {}, typingTimer = null, lastTyping = 0;
  var statusEl = $("rt-status");

  function uid() { return "v" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function showError(frame) { var el = $("v-error"); el.textContent = frame ? (frame.message || "") : ""; el.hidden = !frame; }
  function setStatus(s) { statusEl.textContent = statusEl.dataset[s] || s; statusEl.className = "rt-status rt-" + s; }

  function post(frame) {
    return fetch(cfg.actUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(frame), credentials: "omit" })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b.data; }); });
  }

  function render(m) {
    if (shown[m.seq]) return;
    shown[m.seq] = true;
    var li = document.createElement("li");
    li.className = "msg msg-" + m.sender + (m.kind !== "text" ? " msg-" + m.kind : "");
    li.dataset.seq = m.seq;
    var who = document.createElement("span"); who.className = "who";
    who.textContent = m.sender === "visitor" ? $("i18n").dataset.you : (m.sender === "agent" ? (m.author || $("i18n").dataset.agent) : "");
    var body = document.createElement("span"); body.className = "text"; body.textContent = m.text;
    li.appendChild(who); li.appendChild(body);
    if (m.kind === "file" && m.data && m.data.file) fileBody(body, m.data.file);
    var log = $("v-log");
    var after = null;
    Array.prototype.forEach.call(log.children, function (c) { if (!after && Number(c.dataset.seq) > m.seq) after = c; });
    log.insertBefore(li, after);
    log.scrollTop = log.scrollHeight;
    if (m.data && (m.data.event === "rate_request")) { $("rate-form").hidden = false; $("v-composer").hidden = true; }
    if (m.data && m.data.event === "rated") { $("rate-form").hidden = true; $("rated").hidden = false; }
    if (m.kind === "closing" || (m.data && m.data.event === "left")) { $("v-composer").hidden = true; }
  }

  // Files come with the token header (never in the URL), then are shown from a blob: URL.
  function fetchFile(f, inline) {
    var url = $("visit").dataset.fileUrl.replace(/\/0\/$/, "/" + Number(f.id) + "/") + (inline ? "?inline=1" : "");
    return fetch(url, { headers: { "X-Kefu-Token": conv.token }, credentials: "omit" })
      .then(function (r) { if (!r.ok) throw r; return r.blob(); });
  }
  function fileBody(body, f) {
    body.textContent = "";
    var link = document.createElement("a"); link.href = "#"; link.textContent = "📎 " + f.name + " (" + Math.ceil(f.size / 1024) + " KB)";
    link.addEventListener("click", function (ev) {
      ev.preventDefault();
      fetchFile(f, false).then(function (blob) {
        var a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = f.name; document.body.appendChild(a); a.click(); a.remove();
      }, function () {});
    });
    if (f.image) {
      var img = document.createElement("img"); img.className = "chat-thumb"; img.alt = f.name;
      fetchFile(f, true).then(function (blob) { img.src = URL.createObjectURL(blob); }, function () {});
      body.appendChild(img); body.appendChild(document.createElement("br"));
    }
    body.appendChild(link);
  }

  function open(c) {
    conv = c;
    sessionStorage.setItem(KEY, JSON.stringify(c));
    $("start-form").hidden = true; $("conv").hidden = false;
    rt = KefuRT.connect(Object.assign({}, cfg, {
      token: c.token, storeKey: "kefu-chat-cursor-" + c.conversation,
      onStatus: setStatus,
      onEvent: function (f) {
        if (f.event === "chat.message") {
          render(f.payload);
          if (f.payload.sender !== "visitor") {
            markRead(f.payload.seq);
            // Framed by embed.js: tell the host page's button (no content, only that a reply came).
            if (window.parent !== window) window.parent.postMessage({ type: "kefu-chat", event: "reply" }, "*");
          }
        }
        else if (f.event === "chat.typing" && f.payload.by === "agent") {
          $("v-typing").hidden = false; clearTimeout(typingTimer); typingTimer = setTimeout(function () { $("v-typing").hidden = true; }, 4000);
        }
      },
      onReset: function () { loadState(0); },
      onError: function (f) {
        if (f.code === "token_invalid" || f.code === "token_revoked") {
          sessionStorage.removeItem(KEY); $("v-composer").hidden = true;
        }
        showError(f);
      },
    }));
    rt.subscribe(c.group);
    loadState(0);
  }

  function loadState(since) {
    rt.request("chat.state", { conversation: conv.conversation, since: since }).then(function (d) {
      d.messages.forEach(render);
      rt.setCursor(conv.group, d.conversation.last_seq);
      if (d.conversation.status === "closed" && !d.conversation.rating) { $("rate-form").hidden = false; $("v-composer").hidden = true; }
      if (d.messages.length) markRead(d.messages[d.messages.length - 1].seq);
    }, showError);
  }

  function markRead(seq) { if (rt) rt.request("chat.read", { conversation: conv.conversation, seq: seq }).catch(function () {}); }

  $("start-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    showError(null);
    post({ type: "chat.start", name: f.name.value, unit: f.unit.value, phone: f.phone.value, text: f.text.value })
      .then(open, function (err) {
        if (err.code === "chat_offline") {
          $("start-form").hidden = true; $("offline").hidden = false;
          var l = $("leave-form");   // carry over what the visitor typed
          l.name.value = f.name.value; l.unit.value = f.unit.value; l.phone.value = f.phone.value; l.text.value = f.text.value;
        }
        else showError(err);
      });
  });

  $("leave-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    showError(null);
    post({ type: "chat.leave_message", name: f.name.value, unit: f.unit.value, phone: f.phone.value, kind: f.kind.value, text: f.text.value })
      .then(function () { f.hidden = true; $("left-ok").hidden = false; }, function (err) {
        var el = $("offline").querySelector(".chat-error") || document.createElement("div");
        el.className = "chat-error"; el.setAttribute("role", "alert"); el.textContent = err.message || err.code; f.appendChild(el);
      });
  });

  $("v-composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("v-text"), text = box.value;
    if (!text.trim()) return;
    var cid = uid();
    showError(null);
    rt.request("chat.send", { conversation: conv.conversation, text: text, client_id: cid }).then(function () {
      if (box.value === text) box.value = "";
    }, showError);
  });
  $("v-file").addEventListener("change", function (ev) {
    var input = ev.target;
    if (!conv || !input.files.length) return;
    var form = new FormData();
    form.append("conversation", String(conv.conversation)); form.append("client_id", uid()); form.append("file", input.files[0]);
    showError(null);
    fetch($("visit").dataset.uploadUrl, { method: "POST", body: form, headers: { "X-Kefu-Token": conv.token }, credentials: "omit" })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); })
      .then(function () { input.value = ""; }, function (err) { input.value = ""; showError(err); });
  });
  $("v-text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("v-composer").requestSubmit(); return; }
    var now = Date.now();
    if (rt && now - lastTyping > 3000) { lastTyping = now; rt.request("chat.typing", { conversation: conv.conversation }).catch(function () {}); }
  });
  $("v-leave").addEventListener("click", function () {
    rt.request("chat.leave", { conversation: conv.conversation }).then(function (d) {
      if (d.status === "abandoned") { sessionStorage.removeItem(KEY); $("v-composer").hidden = true; }
      else { $("rate-form").hidden = false; $("v-composer").hidden = true; }
    }, showError);
  });
  $("rate-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target, r = f.querySelector("input[name=rating]:checked");
    if (!r) return;
    rt.request("chat.rate", { conversation: conv.conversation, rating: r.value, comment: f.comment.value }).then(function () {
      f.hidden = true; $("rated").hidden = false; sessionStorage.removeItem(KEY);
    }, showError);
  });

  if (saved && saved.token) open(saved);
})();
