// Typeset every formula with the vendored KaTeX; without JavaScript the LaTeX source stays readable.
(function () {
  // A displayed formula is set in display style but as inline math, so that the browser breaks
  // it after a top-level "+" or "=" when it is wider than its column; its result ("= 1", after
  // the last top-level "=") is set apart and goes to a line of its own once the formula wraps.
  // Top-level "=" signs (the result follows the last one) and a source that may also break
  // after a top-level comma or semicolon (a list of numbers).
  function scan(source) {
    var depth = 0, found = -1, count = 0, out = "";
    for (var i = 0; i < source.length; i++) {
      var ch = source[i];
      if (ch === "\\") {
        var match = /^\\([A-Za-z]+|.)/.exec(source.slice(i));
        var name = match ? match[1] : "";
        if (name === "left") depth++;
        else if (name === "right") depth--;
        out += "\\" + name;
        i += name.length;
        // a product stays on one line: the formula breaks at "+", "−" and "="
        if ((name === "cdot" || name === "times") && depth === 0) out += "\\nobreak ";
        continue;
      }
      if (ch === "{") depth++;
      else if (ch === "}") depth--;
      else if (ch === "=" && depth === 0) { found = out.length; count++; }
      out += ch;
      if ((ch === "," || ch === ";") && depth === 0) out += "\\allowbreak ";
    }
    return { text: out, cut: count >= 2 && out.length - found < 40 ? found : -1 };
  }

  function renderDisplayed(el, source, output) {
    var scanned = scan(source), text = scanned.text, cut = scanned.cut;
    var parts = cut < 0 ? [text] : [text.slice(0, cut), text.slice(cut)];
    el.textContent = "";
    parts.forEach(function (part, k) {
      var span = document.createElement("span");
      span.className = k === 0 ? "tex-main" : "tex-result";
      window.katex.render("\\displaystyle " + part, span, { throwOnError: false, output: output });
      el.appendChild(span);
      if (k === 0 && parts.length > 1) el.appendChild(document.createTextNode(" "));
    });
  }

  function typeset(root) {
    if (!window.katex) return;
    // Long printable pages (answer keys) use Chromium's native MathML: far lighter to lay out.
    var printable = document.body.classList.contains("printable");
    var output = printable ? "mathml" : "htmlAndMathml";
    root.querySelectorAll(".tex[data-tex]:not(.katex-done)").forEach(function (el) {
      var source = el.getAttribute("data-tex");
      var displayed = el.classList.contains("tex-display");
      try {
        if (displayed && !printable) renderDisplayed(el, source, output);
        else window.katex.render(source, el, { displayMode: displayed, throwOnError: false, output: output });
        el.classList.add("katex-done");
      } catch (e) {
        /* keep the source text */
      }
    });
    fit(root);
  }

  // A formula that wraps puts its result on a line of its own; a box still wider than its
  // content (a matrix, a picture, one long fraction) scrolls with a visible scrollbar, and the
  // keyboard reaches it (a focusable, named region).
  var SCROLLERS = ".matrix-wrap, .table-wrap, .formula, .picture, .statement-formula, pre.code";
  function fit(root) {
    root.querySelectorAll(".tex-display.katex-done").forEach(function (el) {
      var main = el.querySelector(".tex-main > .katex");
      el.classList.remove("wrapped");
      if (main && main.getClientRects().length > 1) el.classList.add("wrapped");
    });
    root.querySelectorAll(SCROLLERS).forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        var caption = box.querySelector("caption, figcaption");
        var name = caption ? caption.textContent.trim() : (box.dataset.scrollLabel || "");
        box.setAttribute("aria-label", (name ? name + " — " : "") + window.stepgrad.scrolls);
        box.classList.add("scrolls");
      } else if (box.classList.contains("scrolls")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        box.classList.remove("scrolls");
      }
    });
  }
  window.stepgrad = { typeset: typeset, fit: fit, scrolls: "" };
  document.addEventListener("DOMContentLoaded", function () {
    window.stepgrad.scrolls = document.body.dataset.scrolls || "scrolls sideways";
    typeset(document);
  });
  // a formula inside a closed <details> is measured once it opens
  document.addEventListener("toggle", function (event) { fit(event.target); }, true);
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { fit(document); }, 100);
  });
})();
// The try page holds no solution: asking for it fetches it (a link to one of its steps too).
(function () {
  function load(then) {
    var link = document.querySelector("a.show-solution");
    if (!link) return then && then();
    fetch(link.href, { headers: { Accept: "text/html" } })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var steps = new DOMParser().parseFromString(html, "text/html").getElementById("steps");
        if (!steps) return;
        var place = link.closest("section.solution");
        place.replaceChildren(document.importNode(steps, true));
        window.stepgrad.typeset(place);
        if (then) then();
        else place.scrollIntoView();
      });
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("a.show-solution")) {
      event.preventDefault();
      load();
      return;
    }
    var step = event.target.closest('a[href^="#step-"]');
    if (step && !document.querySelector(step.getAttribute("href"))) {
      event.preventDefault();
      load(function () { location.hash = step.getAttribute("href"); });
    }
  });
})();
// The hint ladder of a try page's part: a hint, then the step's formula with the student's
// own earlier answers (as typed now), then the full solution, each fetched when asked for
// (the page holds none).
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest(".hints a");
  if (!link) return;
  event.preventDefault();
  var box = link.closest(".hints");
  var body = box.querySelector(".hint-body");
  var next = link.nextElementSibling;
  link.hidden = true;
  if (next && next.tagName === "A") {
    next.hidden = false;
  }
  if (link.classList.contains("hint-solution")) {
    var show = document.querySelector("a.show-solution");
    if (show) show.click();
    return;
  }
  var url = new URL(link.href, location.href);
  var form = link.closest("form");
  if (form && link.getAttribute("data-level") === "2") {
    new FormData(form).forEach(function (value, name) {
      if (name.indexOf("a_") !== 0) return;
      if (String(value).trim()) url.searchParams.set(name, value);
      else url.searchParams.delete(name);
    });
  }
  fetch(url.href, { headers: { Accept: "text/html" } })
    .then(function (answer) { return answer.text(); })
    .then(function (html) {
      var hint = new DOMParser().parseFromString(html, "text/html").getElementById("hint");
      if (!hint) return;
      hint.removeAttribute("id");
      body.appendChild(document.importNode(hint, true));
      window.stepgrad.typeset(body);
      if (next && !next.hidden) next.focus();
    });
});
// Print buttons of the sheets and keys (no inline handlers: the CSP allows only script files).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("button[data-print]")) window.print();
});
// The PyTorch section of a task page holds a link to the script's page: opening the section
// fetches the script and what it printed into it (the server runs it only when asked).
(function () {
  function load(details) {
    var link = details.querySelector("a.show-pytorch");
    if (!link || details.getAttribute("data-loading")) return;
    details.setAttribute("data-loading", "1");
    fetch(link.href, { headers: { Accept: "text/html" } })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var body = new DOMParser().parseFromString(html, "text/html").getElementById("pytorch-body");
        if (!body) return;
        var placed = document.importNode(body, true);
        details.querySelector("#pytorch-body").replaceWith(placed);
        window.stepgrad.fit(placed);
      })
      .finally(function () { details.removeAttribute("data-loading"); });
  }
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (details.matches && details.matches("details.pytorch") && details.open) load(details);
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("details.pytorch a.show-pytorch");
    if (!link) return;
    event.preventDefault();
    load(link.closest("details.pytorch"));
  });
})();
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
