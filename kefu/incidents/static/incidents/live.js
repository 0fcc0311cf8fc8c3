// Live incident banners: listens on the groups the page lists and redraws the banner
// from the pushed payload (text only, never HTML). Without a socket the page shows
// what it loaded.
(function () {
  "use strict";
  const cfgEl = document.getElementById("incident-live-config");
  const rtEl = document.getElementById("kefu-rt-config");
  const box = document.querySelector("[data-incident-live]");
  if (!cfgEl || !rtEl || !box || !window.KefuRT) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const labels = cfg.labels || {};
  function line(tag, text, cls) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }
  function draw(p) {
    const id = "incident-live-" + (p.number || p.key);
    let el = document.getElementById(id);
    if (!p.open) { if (el) el.remove(); return; }
    if (!el) { el = document.createElement("aside"); el.id = id; el.setAttribute("role", "status"); box.prepend(el); }
    el.className = cfg.public ? "incident-notice" : "incident-banner";
    el.dataset.testid = cfg.public ? "faq-incident-live" : "incident-live";
    el.replaceChildren(line("strong", (labels.title || "") + " " + (p.number || "") + " " + p.title + " · " + p.status_label));
    if (p.script) el.append(line("div", (labels.script || "") + p.script));
    if (p.guidance) el.append(line("div", (labels.guidance || "") + p.guidance));
    if (p.url) { const a = line("a", labels.open || p.url); a.href = p.url; el.append(a); }
  }
  const rt = window.KefuRT.connect({
    ...JSON.parse(rtEl.textContent),
    csrfToken: cfg.csrf || "",
    onEvent(frame) { if (frame.event === "incidents.banner") draw(frame.payload); },
  });
  (cfg.groups || []).forEach((g) => rt.subscribe(g));
})();
