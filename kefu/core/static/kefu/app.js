// Behaviour that would otherwise be inline script (forbidden by our CSP) lives here.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);

// Print buttons (no inline handlers under the CSP): <button data-print>.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (button) { event.preventDefault(); window.print(); }
});
