/* Kefu online service on the operator's own sites.
 *
 *   <script src="https://<kefu host>/chat/embed.js" async></script>
 *   optional: data-label="在线客服" data-position="left"
 *
 * Adds a button; the button opens this server's visitor window (/chat/visit/) in a frame.
 * The site must be listed in admin → 允许嵌入的站点: otherwise the browser refuses the frame
 * (CSP frame-ancestors) and the server refuses its sockets and requests (Origin check).
 * Nothing of the host page is read; the frame only tells the button that a reply arrived,
 * and only messages from this server's origin and from our own frame are listened to.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__kefuChat) return;
  window.__kefuChat = true;
  var base = new URL(me.src, location.href).origin;
  var label = me.getAttribute("data-label") || "在线客服";
  var left = me.getAttribute("data-position") === "left";
  var side = left ? "left" : "right";

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("style", "position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;padding:10px 16px;" +
    "border:0;border-radius:20px;background:#1a5fb4;color:#fff;font-size:15px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)");
  var frame = null;

  function toggle() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/chat/visit/?embed=1";
      frame.title = label;
      frame.setAttribute("style", "position:fixed;bottom:70px;" + side + ":20px;z-index:2147483000;width:360px;" +
        "max-width:calc(100vw - 40px);height:540px;max-height:calc(100vh - 90px);border:1px solid #ccc;border-radius:8px;background:#fff");
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
    if (!frame.hidden) button.textContent = label;
  }
  button.addEventListener("click", toggle);

  window.addEventListener("message", function (ev) {
    if (ev.origin !== base || !frame || ev.source !== frame.contentWindow) return;
    var d = ev.data;
    if (d && d.type === "kefu-chat" && d.event === "reply" && frame.hidden) button.textContent = label + " •";
  });

  if (document.body) document.body.appendChild(button);
  else document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(button); });
})();
