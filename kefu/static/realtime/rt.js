/* Kefu realtime client: one socket, reconnect with backoff, resume by sequence, long-poll fallback.
 *
 *   const rt = KefuRT.connect({
 *     wsUrl: "ws://host:8001/ws/rt/",        // default: same host, path /ws/rt/
 *     pollUrl: "/rt/poll", actUrl: "/rt/act", // HTTP fallback (same origin by default)
 *     token: "…",                             // visitor token (optional; agents use their session)
 *     csrfToken: "…",                         // for signed-in users' POSTs in fallback mode
 *     onEvent(frame) {}, onStatus(status) {}, // status: "connecting" | "open" | "polling" | "closed"
 *     onError(frame) {},                      // error frames without a pending request
 *   });
 *   rt.subscribe("team.3");                   // resumes from the last seq it saw
 *   rt.request("chat.send", {...}).then(data => …, errorFrame => …);
 *
 * No dependencies, no CDN. docs/realtime.md describes the protocol.
 */
(function (global) {
  "use strict";

  function connect(opts) {
    var loc = global.location;
    var wsUrl = opts.wsUrl || ((loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + "/ws/rt/");
    var pollUrl = opts.pollUrl || "/rt/poll";
    var actUrl = opts.actUrl || "/rt/act";
    var storeKey = opts.storeKey || "kefu-rt-cursors";
    var cursors = {};   // group -> last seq delivered to onEvent
    var wanted = {};    // groups to (re)subscribe
    var pending = {};   // ref -> {resolve, reject, frame}
    var refSeq = 0;
    var ws = null, mode = "connecting", failures = 0, closedByUser = false, pollTimer = null, retryTimer = null;
    var fatal = false;

    try { cursors = JSON.parse(global.sessionStorage.getItem(storeKey) || "{}") || {}; } catch (e) { cursors = {}; }
    function save() { try { global.sessionStorage.setItem(storeKey, JSON.stringify(cursors)); } catch (e) { /* private mode */ } }
    function status(s) { mode = s; if (opts.onStatus) opts.onStatus(s); }

    function deliver(frame) {
      if (frame.seq !== null && frame.seq !== undefined) {
        var last = cursors[frame.group] || 0;
        if (frame.seq <= last) return;          // a duplicate: already shown
        cursors[frame.group] = frame.seq; save();
      }
      if (opts.onEvent) opts.onEvent(frame);
    }

    function handle(frame) {
      if (frame.type === "event") return deliver(frame);
      if (frame.type === "subscribed") {
        if (frame.reset) { cursors[frame.group] = frame.seq; save(); if (opts.onReset) opts.onReset(frame.group); }
        else if (!(frame.group in cursors)) { cursors[frame.group] = frame.seq; save(); }
        return;
      }
      if (frame.type === "hello") {
        if (frame.principal === "visitor" || !opts.token) { resubscribe(); }
        return;
      }
      if (frame.ref !== undefined && frame.ref !== null && pending[frame.ref]) {
        var p = pending[frame.ref]; delete pending[frame.ref];
        if (frame.type === "reply") p.resolve(frame.data); else p.reject(frame);
        return;
      }
      if (frame.type === "error") {
        if (frame.code === "token_invalid" || frame.code === "token_revoked") fatal = true;
        if (opts.onError) opts.onError(frame);
      }
    }

    function resubscribe() {
      Object.keys(wanted).forEach(function (g) {
        var f = { type: "subscribe", group: g };
        if (g in cursors) f.since = cursors[g];
        sendRaw(f);
      });
      // requests sent while the socket was down go out again (the server drops duplicates by client id)
      Object.keys(pending).forEach(function (ref) { if (!pending[ref].sent) { pending[ref].sent = true; sendRaw(pending[ref].frame); } });
    }

    function sendRaw(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; } return false; }

    function openSocket() {
      if (closedByUser || fatal) return;
      if (mode !== "polling") status("connecting");   // while polling, keep polling until the socket opens
      try { ws = new global.WebSocket(wsUrl); } catch (e) { return socketFailed(); }
      var opened = false;
      ws.onopen = function () {
        opened = true; failures = 0; stopPolling(); status("open");
        if (opts.token) ws.send(JSON.stringify({ type: "auth", token: opts.token }));
      };
      ws.onmessage = function (msg) { var f; try { f = JSON.parse(msg.data); } catch (e) { return; } handle(f); };
      ws.onclose = function (ev) {
        ws = null;
        Object.keys(pending).forEach(function (ref) { pending[ref].sent = false; });
        if (closedByUser) return status("closed");
        if (ev.code === 4401 || ev.code === 4403) { fatal = true; return status("closed"); }
        if (!opened) return socketFailed();
        scheduleRetry();
      };
    }

    function socketFailed() {
      failures += 1;
      // Three failed attempts in a row: the network likely blocks WebSocket. Poll, and keep trying the socket slowly.
      if (failures >= 3) startPolling();
      scheduleRetry();
    }

    function scheduleRetry() {
      if (closedByUser || fatal) return;
      var base = Math.min(30000, 1000 * Math.pow(2, Math.min(failures, 5)));
      var delay = base / 2 + Math.random() * base / 2;   // jitter: not every client at once after a restart
      clearTimeout(retryTimer);
      retryTimer = setTimeout(openSocket, delay);
      if (mode !== "polling") status("connecting");
    }

    function startPolling() {
      if (pollTimer !== null || closedByUser) return;
      status("polling");
      flushPendingOverHttp();
      var loop = function () {
        if (mode !== "polling") { pollTimer = null; return; }
        var groups = Object.keys(wanted);
        if (!groups.length) { pollTimer = setTimeout(loop, 2000); return; }
        var q = groups.map(function (g) { return "g=" + encodeURIComponent(g + ":" + (cursors[g] || 0)); }).join("&");
        var headers = {};
        if (opts.token) headers["X-Kefu-Token"] = opts.token;
        global.fetch(pollUrl + "?" + q + "&wait=20", { headers: headers, credentials: opts.token ? "omit" : "same-origin" })
          .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
          .then(function (res) {
            if (!res.ok) { handle(Object.assign({ type: "error" }, res.body)); pollTimer = setTimeout(loop, 5000); return; }
            flushPendingOverHttp();
            res.body.events.forEach(deliver);
            (res.body.reset || []).forEach(function (g) { cursors[g] = res.body.cursors[g]; save(); if (opts.onReset) opts.onReset(g); });
            pollTimer = setTimeout(loop, 100);
          })
          .catch(function () { pollTimer = setTimeout(loop, 3000); });
      };
      pollTimer = setTimeout(loop, 0);
    }

    function stopPolling() { if (pollTimer !== null) { clearTimeout(pollTimer); pollTimer = null; } }

    function postAction(frame, resolve, reject) {
      var headers = { "Content-Type": "application/json" };
      if (opts.token) headers["X-Kefu-Token"] = opts.token;
      if (opts.csrfToken) headers["X-CSRFToken"] = opts.csrfToken;
      global.fetch(actUrl, { method: "POST", headers: headers, body: JSON.stringify(frame), credentials: opts.token ? "omit" : "same-origin" })
        .then(function (r) { return r.json().then(function (b) { if (r.ok) resolve(b.data); else reject(Object.assign({ type: "error" }, b)); }); })
        .catch(function () {
          // The server is unreachable (restarting, network gone): keep the request and send it again on the
          // next successful poll or when the socket opens; the server drops duplicates by the frame's client id.
          pending[frame.ref] = { resolve: resolve, reject: reject, frame: frame, sent: false };
        });
    }

    function flushPendingOverHttp() {
      Object.keys(pending).forEach(function (ref) {
        var p = pending[ref];
        if (p.sent) return;
        delete pending[ref];
        postAction(p.frame, p.resolve, p.reject);
      });
    }

    function request(type, data) {
      var ref = "r" + (++refSeq) + "-" + Date.now().toString(36);
      var frame = Object.assign({}, data || {}, { type: type, ref: ref });
      return new Promise(function (resolve, reject) {
        if (mode === "polling") { postAction(frame, resolve, reject); return; }
        // Not connected yet: kept until the socket opens, or sent over HTTP if we fall back to polling.
        pending[ref] = { resolve: resolve, reject: reject, frame: frame, sent: sendRaw(frame) };
      });
    }

    openSocket();
    return {
      subscribe: function (group) { wanted[group] = true; if (ws && ws.readyState === 1) { var f = { type: "subscribe", group: group }; if (group in cursors) f.since = cursors[group]; sendRaw(f); } },
      unsubscribe: function (group) { delete wanted[group]; sendRaw({ type: "unsubscribe", group: group }); },
      send: function (type, data) { return sendRaw(Object.assign({}, data || {}, { type: type })); },  // fire and forget (typing)
      request: request,
      cursor: function (group) { return cursors[group] || 0; },
      setCursor: function (group, seq) { cursors[group] = seq; save(); },
      status: function () { return mode; },
      close: function () { closedByUser = true; stopPolling(); clearTimeout(retryTimer); if (ws) ws.close(1000); status("closed"); },
    };
  }

  global.KefuRT = { connect: connect };
})(window);
