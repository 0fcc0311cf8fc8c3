// Knowledge suggestions in the order and resolve forms: cite (the number goes into the form's citation
// field) and paste the customer answer into the reply. Typed text is never replaced: a pasted answer is
// appended. Event delegation, so fragments swapped in by htmx need no wiring.
(function () {
  if (window.kefuKbSuggest) return;
  window.kefuKbSuggest = true;

  function widget(el) { return el.closest(".kb-widget"); }

  function clicked(el) {
    var w = widget(el), list = el.closest(".kb-suggest");
    var form = el.closest("form"), token = form && form.querySelector("[name=csrfmiddlewaretoken]");
    if (!w || !list || !list.dataset.log || !token) return;
    var body = new FormData();
    body.append("log", list.dataset.log);
    body.append("article", el.dataset.kbArticle);
    fetch(w.dataset.suggestClicked, {method: "POST", body: body, headers: {"X-CSRFToken": token.value}, credentials: "same-origin"});
  }

  document.addEventListener("click", function (ev) {
    var cite = ev.target.closest("[data-kb-cite]");
    if (cite) {
      var form = cite.closest("form"), field = form && form.querySelector("[name='" + cite.dataset.kbTarget + "']");
      if (field) field.value = cite.dataset.kbCite;
      var note = widget(cite) && widget(cite).querySelector(".kb-cited");
      if (note) {
        var title = cite.closest(".kb-suggest-item").querySelector(".kb-suggest-title");
        note.textContent = cite.dataset.kbCite + " " + (title ? title.textContent : "");
        note.hidden = false;
      }
      clicked(cite);
      return;
    }
    var paste = ev.target.closest("[data-kb-paste]");
    if (paste) {
      var answer = paste.parentElement.querySelector("template.kb-answer");
      var text = answer ? answer.content.textContent.trim() : "";
      var f = paste.closest("form");
      var reply = f && (f.querySelector("[name=reply_content]") || f.querySelector("[name=content]") || f.querySelector("[name=resolution]"));
      if (reply && text) {
        reply.value = reply.value ? reply.value.replace(/\s+$/, "") + "\n" + text : text;
        reply.dispatchEvent(new Event("input", {bubbles: true}));
      } else if (text && navigator.clipboard) {
        navigator.clipboard.writeText(text);
      }
      clicked(paste);
    }
  });
})();
