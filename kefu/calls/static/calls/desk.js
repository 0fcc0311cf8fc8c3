/* The agent's screen pop: a pushed "calls.pop" event (kefu.realtime) or, always, a 1-second poll. */
(function () {
  "use strict";
  var status = document.getElementById("desk-status");
  if (!status) return;
  var after = parseInt(status.dataset.after || "0", 10);
  var shown = {};
  var box = document.getElementById("pops");

  function show(callId) {
    if (shown[callId]) return;
    shown[callId] = true;
    var url = status.dataset.cardUrl.replace("/0/", "/" + callId + "/");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : ""; }).then(function (html) {
      if (!html) { delete shown[callId]; return; }
      var holder = document.createElement("div");
      holder.innerHTML = html;
      box.insertBefore(holder, box.firstChild);
    });
  }

  function poll() {
    fetch(status.dataset.popsUrl + "?after=" + after, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {pops: []}; })
      .then(function (data) {
        data.pops.slice().reverse().forEach(function (p) { after = Math.max(after, p.id); show(p.call); });
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 1000); });
  }
  poll();

  if (window.KefuRT) {
    try {
      var rt = window.KefuRT.connect({onEvent: function (frame) {
        if (frame.event === "calls.pop" && frame.payload) show(frame.payload.call);
      }});
      rt.subscribe("user." + status.dataset.user);
    } catch (e) { /* the poll above still delivers */ }
  }
})();
