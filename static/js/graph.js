// The graph page: pointing at (or focusing) a node of the picture, its row of the table or one
// of its steps highlights the three together.
(function () {
  "use strict";
  var scope = document.querySelector("main");
  if (!scope || !document.getElementById("picture")) return;
  var marked = [];
  function mark(id) {
    marked.forEach(function (el) { el.classList.remove("node-hl"); });
    marked = Array.prototype.slice.call(scope.querySelectorAll('[data-node="' + id + '"]'));
    marked.forEach(function (el) { el.classList.add("node-hl"); });
  }
  function onEvent(event) {
    var el = event.target.closest && event.target.closest("[data-node]");
    if (el) mark(el.getAttribute("data-node"));
  }
  scope.addEventListener("pointerover", onEvent);
  scope.addEventListener("focusin", onEvent);
})();
