// Knowledge suggestions in the order and resolve forms and the chat console: cite (the number goes into the
// form's citation field; in the chat console the article goes with the next message) and paste the customer
// answer into the reply. Typed text is never replaced: a pasted answer is appended. Event delegation, so
// fragments swapped in by htmx need no wiring.
(function () {
  if (window.kefuKbSuggest) return;
  window.kefuKbSuggest = true;

  function widget(el) { return el.closest(".kb-widget"); }

  function clicked(el) {
    var w = widget(el), list = el.closest(".kb-suggest");
    var form = el.closest("form"), input = form && form.querySelector("[name=csrfmiddlewaretoken]");
    var token = input ? input.value : (w && w.dataset.csrf);
    if (!w || !list || !list.dataset.log || !token) return;
    var body = new FormData();
    body.append("log", list.dataset.log);
    body.append("article", el.dataset.kbArticle);
    fetch(w.dataset.suggestClicked, {method: "POST", body: body, headers: {"X-CSRFToken": token}, credentials: "same-origin"});
  }

  function append(field, text) {
    field.value = field.value ? field.value.replace(/\s+$/, "") + "\n" + text : text;
    field.dispatchEvent(new Event("input", {bubbles: true}));
    field.focus();
  }

  // The chat console: its composer is outside the widget; the widget names the fields to fill.
  function chat(el) {
    var w = widget(el);
    if (!w || !w.dataset.kbChatText) return false;
    var item = el.closest(".kb-suggest-item"), title = item && item.querySelector(".kb-suggest-title");
    if (el.dataset.kbCite) {
      var cite = document.querySelector(w.dataset.kbChatCite), label = document.querySelector(w.dataset.kbChatLabel);
      if (cite) cite.value = el.dataset.kbArticle;
      if (label) label.textContent = "📖 " + el.dataset.kbCite + " " + (title ? title.textContent : "");
    } else {
      var answer = el.parentElement.querySelector("template.kb-answer");
      var text = answer ? answer.content.textContent.trim() : "";
      var box = document.querySelector(w.dataset.kbChatText);
      if (box && text) append(box, text);
    }
    clicked(el);
    return true;
  }

  document.addEventListener("click", function (ev) {
    var cite = ev.target.closest("[data-kb-cite]");
    var paste = ev.target.closest("[data-kb-paste]");
    if ((cite || paste) && chat(cite || paste)) return;
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
    if (paste) {
      var answer = paste.parentElement.querySelector("template.kb-answer");
      var text = answer ? answer.content.textContent.trim() : "";
      var f = paste.closest("form");
      var reply = f && (f.querySelector("[name=reply_content]") || f.querySelector("[name=content]") || f.querySelector("[name=resolution]"));
      if (reply && text) {
        append(reply, text);
      } else if (text && navigator.clipboard) {
        navigator.clipboard.writeText(text);
      }
      clicked(paste);
    }
  });
})();
