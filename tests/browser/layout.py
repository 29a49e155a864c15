"""What the layout tests visit and measure: the pages with the lecture's problems and a large
problem of each task, and a script that lists every box whose content is wider than it."""

from __future__ import annotations

from urllib.parse import urlencode

LARGE_LOSS = {
    "scores": "\n".join(
        " ".join(f"{(r * 7 + c * 3) % 23 / 3 - 3.5:.2f}" for c in range(8)) for r in range(6)
    ),
    "labels": "0 1 2 3 4 5 0 1",
    "class_names": "cat, car, frog, airplane, automobile, truck",
    "loss": "softmax",
}
LARGE_GRAPH = {
    "expression": "1/(1+e^-(w0x0+w1x1+w2x2+w3x3+w4))*max(x0, x1) + tanh(w0*w1 - x2)",
    "values": "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = 0.5, x2 = 1.25, w3 = -1.5, x3 = 3, w4 = -3",
}
LARGE_CONV = {
    "image": "\n\n".join(
        "\n".join(" ".join(str((r * 3 + c * 5 + ch) % 9 - 3) for c in range(9)) for r in range(9))
        for ch in range(3)
    ),
    "filters": "\n---\n".join(
        "\n\n".join(
            "\n".join(" ".join(str((r + c + ch + f) % 3 - 1) for c in range(3)) for r in range(3))
            for ch in range(3)
        )
        for f in range(3)
    ),
    "bias": "1 -1 0,5",
    "padding": "1",
    "stride": "1",
    "pool_kind": "avg",
    "pool_size": "2",
}
LARGE = {"loss": LARGE_LOSS, "graph": LARGE_GRAPH, "conv": LARGE_CONV}


def paths(lang: str) -> list[str]:
    """Every task page and try page, with the lecture's problem and with a large problem."""
    out = []
    for task, problem in LARGE.items():
        query = urlencode({**problem, "lang": lang})
        out += [f"/{task}?lang={lang}", f"/{task}?{query}"]
        out += [f"/{task}/try?seed=1&lang={lang}", f"/{task}/try?{query}"]
    return out


OVERFLOWS = """
() => {
  // A box may be narrower than its content only if it visibly scrolls and a keyboard reaches it.
  const found = [];
  const scrolls = (el, style) => {
    if (!["auto", "scroll"].includes(style.overflowX)) return false;
    const bar = el.offsetHeight - el.clientHeight
      - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
    return bar > 0 && el.tabIndex >= 0
      && (el.hasAttribute("role") || el.hasAttribute("aria-label"));
  };
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg, .katex-mathml, script, style, option, input, textarea")) continue;
    const style = getComputedStyle(el);
    if (style.display === "inline" || style.display === "none" || !el.clientWidth) continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    if (scrolls(el, style)) continue;
    // KaTeX's own struts reach past their spans by design; the formula's box is what counts
    if (el.closest(".katex") && !el.matches(".katex-display, .katex")) continue;
    found.push(
      el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
        ? "." + el.className.trim().split(/\\s+/).join(".") : "")
      + ` ${el.scrollWidth}>${el.clientWidth}: ${el.textContent.trim().slice(0, 60)}`
    );
  }
  // a form control's text must fit: a select shows its chosen option whole
  for (const select of document.querySelectorAll("select")) {
    const probe = document.createElement("span");
    const style = getComputedStyle(select);
    probe.style.font = style.font;
    probe.style.position = "absolute";
    probe.style.whiteSpace = "nowrap";
    let widest = 0;
    for (const option of select.options) {
      probe.textContent = option.text;
      document.body.appendChild(probe);
      widest = Math.max(widest, probe.getBoundingClientRect().width);
      probe.remove();
    }
    const room = select.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 20;
    if (widest > room) found.push(`select[name=${select.name}] ${Math.round(widest)}>${room}`);
  }
  return found;
}
"""
"""A script for ``page.evaluate``: one line per box whose content does not fit."""

RESULTS_HIDDEN = """
() => [...document.querySelectorAll(".tex-result")].filter((result) => {
  // a formula's result is on screen within its box (not scrolled away to the right)
  const box = result.closest(".formula, .statement-formula, main").getBoundingClientRect();
  const at = result.getBoundingClientRect();
  return at.width > 0 && (at.right > box.right + 1 || at.left < box.left - 1);
}).map((result) => result.textContent)
"""
"""A script listing the formulas whose result is outside their box."""

SMALL_LABELS = """
() => {
  // every text of the graph picture is at least 11 px tall on screen
  const small = [];
  for (const svg of document.querySelectorAll("svg.graph")) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll("text")) {
      const size = parseFloat(text.getAttribute("font-size")) * scale;
      if (size < 11) small.push(`${text.textContent}: ${size.toFixed(1)} px`);
    }
  }
  return small;
}
"""
"""A script listing the graph picture's texts smaller than 11 px on screen."""

LABELS_ON_LINES = """
() => {
  // no edge label lies on an edge or an arrowhead (points sampled along every edge)
  const hits = [];
  for (const svg of document.querySelectorAll("svg.graph")) {
    const paths = [...svg.querySelectorAll("g.edge path")];
    for (const text of svg.querySelectorAll("g.edge text")) {
      const box = text.getBBox();
      for (const path of paths) {
        const length = path.getTotalLength();
        for (let s = 0; s <= length; s += 2) {
          const p = path.getPointAtLength(s);
          if (p.x > box.x + 1 && p.x < box.x + box.width - 1
              && p.y > box.y + 1 && p.y < box.y + box.height - 1) {
            hits.push(text.textContent);
            break;
          }
        }
      }
    }
  }
  return hits;
}
"""
"""A script listing the graph's edge labels drawn over an edge."""
