/* The agent console. Messages are put in the page with textContent only (no HTML from visitors). */
(function () {
  "use strict";
  var root = document.getElementById("chat-console");
  if (!root) return;
  var cfg = JSON.parse(document.getElementById("kefu-rt-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var me = Number(root.dataset.me);
  var current = null, shown = {}, typingTimer = null, lastTyping = 0, pendingText = null;
  var statusEl = $("rt-status");

  function uid() { return "a" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function setStatus(s) { statusEl.textContent = statusEl.dataset[s] || s; statusEl.className = "rt-status rt-" + s; }
  function showError(frame) {
    var el = $("c-error");
    el.hidden = !frame;
    el.textContent = "";
    if (!frame) return;
    var p = document.createElement("div"); p.textContent = frame.message || frame.code; el.appendChild(p);
    if (frame.code === "norms_blocked" || frame.code === "norms_confirm_required") {
      ((frame.details && frame.details.hits) || []).forEach(function (h) {
        var d = document.createElement("div"); d.className = "norms-hit";
        d.textContent = "「" + h.phrase + "」→ " + h.suggestion; el.appendChild(d);
      });
      $("c-confirm-wrap").hidden = frame.code !== "norms_confirm_required";
    }
  }

  var rt = KefuRT.connect(Object.assign({}, cfg, {
    csrfToken: root.dataset.csrf, storeKey: "kefu-chat-console-" + me,
    onStatus: setStatus,
    onEvent: function (f) {
      if (f.event === "chat.queue" || f.event === "chat.offered") return refreshQueue();
      if (!current || f.group !== "chat." + current) {
        if (f.event === "chat.note") return;
        return;
      }
      if (f.event === "chat.message") { render(f.payload); markRead(f.payload.seq); }
      else if (f.event === "chat.typing" && f.payload.by === "visitor") {
        $("c-typing").hidden = false; clearTimeout(typingTimer); typingTimer = setTimeout(function () { $("c-typing").hidden = true; }, 4000);
      } else if (f.event === "chat.read" && f.payload.by === "visitor") {
        Array.prototype.forEach.call($("c-log").children, function (li) { if (Number(li.dataset.seq) <= f.payload.seq) li.classList.add("seen"); });
      }
    },
    onReset: function (g) { if (current && g === "chat." + current) open(current); },
  }));
  (root.dataset.teams || "").split(",").filter(Boolean).forEach(function (t) { rt.subscribe("team." + t); });
  rt.subscribe("user." + me);

  function refreshQueue() {
    fetch(root.dataset.queueUrl, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var box = $("chat-queue");
      var doc = new DOMParser().parseFromString(html, "text/html");   // our own server-rendered fragment
      box.replaceChildren.apply(box, Array.prototype.slice.call(doc.body.childNodes));
    });
  }
  setInterval(function () {   // waiting times tick without a round trip
    Array.prototype.forEach.call(document.querySelectorAll("[data-waited]"), function (el) {
      var s = Number(el.dataset.waited) + 5; el.dataset.waited = s;
      el.textContent = el.textContent.replace(/\d+/, String(s));
    });
  }, 5000);

  $("chat-queue").addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-conv]");
    if (!a) return;
    ev.preventDefault();
    open(Number(a.dataset.conv));
  });

  function render(m) {
    if (shown[m.seq]) return;
    shown[m.seq] = true;
    var li = document.createElement("li");
    li.className = "msg msg-" + m.sender + (m.kind !== "text" ? " msg-" + m.kind : "");
    li.dataset.seq = m.seq;
    var who = document.createElement("span"); who.className = "who"; who.textContent = m.sender === "visitor" ? visitorName : (m.author || "");
    var body = document.createElement("span"); body.className = "text"; body.textContent = m.text;
    li.appendChild(who); li.appendChild(body);
    if (m.kind === "file" && m.data && m.data.file) {
      // Our own download route (session, scoped by team); images are shown as thumbnails.
      var f = m.data.file, url = "/chat/files/" + Number(f.id) + "/";
      body.textContent = "";
      var link = document.createElement("a"); link.href = url; link.textContent = "📎 " + f.name + " (" + Math.ceil(f.size / 1024) + " KB)";
      if (f.image) {
        var img = document.createElement("img"); img.className = "chat-thumb"; img.alt = f.name; img.src = url + "?inline=1";
        var big = document.createElement("a"); big.href = url + "?inline=1"; big.target = "_blank"; big.rel = "noopener"; big.appendChild(img);
        body.appendChild(big); body.appendChild(document.createElement("br"));
      }
      body.appendChild(link);
    }
    if (m.data && m.data.cite) { var c = document.createElement("span"); c.className = "cite"; c.textContent = "📖 " + m.data.cite.title; li.appendChild(c); }
    var log = $("c-log"), after = null;
    Array.prototype.forEach.call(log.children, function (c) { if (!after && Number(c.dataset.seq) > m.seq) after = c; });
    log.insertBefore(li, after);
    log.scrollTop = log.scrollHeight;
  }
  var visitorName = "";

  function open(id) {
    if (current && current !== id) rt.unsubscribe("chat." + current);
    current = id; shown = {}; $("c-log").textContent = ""; showError(null);
    $("chat-main").hidden = false;
    rt.subscribe("chat." + id);
    rt.request("chat.state", { conversation: id, since: 0 }).then(function (d) {
      var c = d.conversation;
      visitorName = d.visitor.name;
      $("c-title").textContent = "#" + c.id + " " + d.visitor.name + (d.visitor.unit ? " · " + d.visitor.unit : "");
      $("c-status").textContent = c.status;
      $("c-visitor").textContent = (d.visitor.phone || "") + (d.ticket ? "  工单 " + d.ticket : "");
      var match = $("c-match");
      match.hidden = !d.visitor.possible_customer;
      if (d.visitor.possible_customer) {
        match.querySelector("span").textContent = d.visitor.possible_customer.name + " / " + d.visitor.possible_customer.contact;
        $("k-customer").value = d.visitor.possible_customer.id;
      } else { $("k-customer").value = ""; }
      $("btn-accept").hidden = c.status !== "waiting";
      if (c.requested_kind) $("k-kind").value = c.requested_kind;   // a message left outside service hours
      $("btn-close").hidden = !(c.status === "active" && c.agent === me);
      $("composer").hidden = !(c.status === "active" && c.agent === me);
      d.messages.forEach(render);
      rt.setCursor("chat." + id, c.last_seq);
      var notes = $("c-notes"); notes.textContent = "";
      d.notes.forEach(function (n) { var li = document.createElement("li"); li.textContent = n.author + "：" + n.text; notes.appendChild(li); });
      if (d.messages.length) markRead(d.messages[d.messages.length - 1].seq);
    }, showError);
  }

  function markRead(seq) { if (current) rt.request("chat.read", { conversation: current, seq: seq }).catch(function () {}); }
  function act(type, data) { showError(null); return rt.request(type, Object.assign({ conversation: current }, data || {})); }

  $("btn-accept").addEventListener("click", function () { act("chat.accept").then(function () { open(current); refreshQueue(); }, showError); });
  $("btn-close").addEventListener("click", function () { act("chat.close").then(function () { open(current); refreshQueue(); }, showError); });

  $("c-file").addEventListener("change", function (ev) {
    var input = ev.target;
    if (!current || !input.files.length) return;
    var form = new FormData();
    form.append("conversation", String(current)); form.append("client_id", uid()); form.append("file", input.files[0]);
    showError(null);
    fetch(root.dataset.uploadUrl, { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": root.dataset.csrf } })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); })
      .then(function () { input.value = ""; }, function (err) { input.value = ""; showError(err); });
  });

  $("composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("c-text"), text = box.value;
    if (!text.trim()) return;
    var cite = $("c-cite").value;
    var frame = { text: text, client_id: pendingText && pendingText.text === text ? pendingText.cid : uid(), confirmed: $("c-confirm").checked };
    if (cite) frame.cite_article = Number(cite);
    pendingText = { text: text, cid: frame.client_id };
    act("chat.send", frame).then(function () {
      // Sent and stored: clear the box (the typed text stays when the check refuses it).
      if (box.value === text) box.value = "";
      $("c-cite").value = ""; $("c-cite-label").textContent = ""; $("c-confirm").checked = false; $("c-confirm-wrap").hidden = true;
      pendingText = null;
    }, function (err) { pendingText = null; showError(err); });
  });
  $("c-text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("composer").requestSubmit(); return; }
    var now = Date.now();
    if (current && now - lastTyping > 3000) { lastTyping = now; act("chat.typing").catch(function () {}); }
  });

  $("presence").addEventListener("change", function (ev) {
    rt.request("chat.presence", { status: ev.target.value }).catch(showError);
  });

  function insertable(list, items, onPick) {
    list.textContent = "";
    items.forEach(function (it) {
      var li = document.createElement("li");
      var b = document.createElement("button"); b.type = "button"; b.className = "link"; b.textContent = it.label;
      b.addEventListener("click", function () { onPick(it); });
      var p = document.createElement("div"); p.className = "muted"; p.textContent = it.preview;
      li.appendChild(b); li.appendChild(p); list.appendChild(li);
    });
  }
  $("btn-suggest").addEventListener("click", function () {
    act("chat.suggest").then(function (d) {
      insertable($("c-suggest"), d.articles.map(function (a) { return { label: a.title, preview: a.answer, a: a }; }), function (it) {
        $("c-text").value = it.a.answer; $("c-cite").value = it.a.article; $("c-cite-label").textContent = "📖 " + it.a.title; $("c-text").focus();
      });
      if (!d.articles.length) $("c-suggest").textContent = "—";
    }, showError);
  });
  var cannedTimer = null;
  function loadCanned() {
    rt.request("chat.canned", { q: $("canned-q").value }).then(function (d) {
      insertable($("c-canned"), d.replies.map(function (r) { return { label: r.label, preview: r.text, r: r }; }), function (it) {
        $("c-text").value = it.r.text; $("c-text").focus();
      });
    }, showError);
  }
  $("canned-q").addEventListener("input", function () { clearTimeout(cannedTimer); cannedTimer = setTimeout(loadCanned, 250); });
  document.querySelector("#chat-main .chat-tools details:nth-child(2)").addEventListener("toggle", loadCanned, { once: true });

  $("note-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var t = $("note-text").value; if (!t.trim()) return;
    act("chat.note", { text: t }).then(function () { $("note-text").value = ""; open(current); }, showError);
  });
  $("transfer-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    act("chat.transfer", { to_team: Number($("t-team").value), reason: $("t-reason").value, note: $("t-note").value })
      .then(function () { refreshQueue(); $("chat-main").hidden = true; current = null; }, showError);
  });
  $("ticket-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = { kind: $("k-kind").value, subject: $("k-subject").value };
    if ($("k-customer").value) data.customer = Number($("k-customer").value);
    if ($("k-category").value) data.category = $("k-category").value;
    act("chat.ticket", data).then(function (d) {
      var a = document.createElement("a"); a.href = d.url; a.textContent = d.ticket; var box = $("k-result"); box.textContent = ""; box.appendChild(a);
    }, showError);
  });
})();
