// Typeset every formula with the vendored KaTeX; without JavaScript the LaTeX source stays readable.
(function () {
  function typeset(root) {
    if (!window.katex) return;
    // Long printable pages (answer keys) use Chromium's native MathML: far lighter to lay out.
    var output = document.body.classList.contains("printable") ? "mathml" : "htmlAndMathml";
    root.querySelectorAll(".tex[data-tex]:not(.katex-done)").forEach(function (el) {
      try {
        window.katex.render(el.getAttribute("data-tex"), el, {
          displayMode: el.classList.contains("tex-display"),
          throwOnError: false,
          output: output,
        });
        el.classList.add("katex-done");
      } catch (e) {
        /* keep the source text */
      }
    });
  }
  window.stepgrad = { typeset: typeset };
  document.addEventListener("DOMContentLoaded", function () { typeset(document); });
})();
// A link to a step inside the hidden solution opens it first.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#step-"]');
  if (!link) return;
  var details = document.querySelector("details.solution");
  if (details) details.open = true;
});
// Print buttons of the sheets and keys (no inline handlers: the CSP allows only script files).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("button[data-print]")) window.print();
});
// Copy buttons: the text of the element their data-copy names (the PyTorch code).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button[data-copy]");
  if (!button || !navigator.clipboard) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  navigator.clipboard.writeText(source.textContent).then(function () {
    button.textContent = button.getAttribute("data-copied") || button.textContent;
  });
});
