// Typeset every formula with the vendored KaTeX; without JavaScript the LaTeX source stays readable.
(function () {
  function typeset(root) {
    if (!window.katex) return;
    root.querySelectorAll(".tex[data-tex]:not(.katex-done)").forEach(function (el) {
      try {
        window.katex.render(el.getAttribute("data-tex"), el, {
          displayMode: el.classList.contains("tex-display"),
          throwOnError: false,
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
