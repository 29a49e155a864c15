"""The class's results as SVG drawn on the server: the score histogram, each part's
verdicts as stacked bars, the misconceptions ranked. No script; a ``viewBox`` so that they
scale to a phone and print sharp; labels as text, colours named by a legend."""

from __future__ import annotations

from html import escape

from app.classroom.gradebook import VERDICTS, Analytics, exam_part_label
from app.i18n import gettext
from solvers.core import N_

COLOURS = {"right": "#2e7d32", "consistent": "#9e9d24", "wrong": "#c62828", "blank": "#9e9e9e"}
"""A verdict's colour (the legend names each)."""
VERDICT_NAMES = {"right": N_("right"), "consistent": N_("carried forward"),
                 "wrong": N_("wrong"), "blank": N_("blank")}  # fmt: skip
SCORE_AXIS = N_("score, % of the maximum")
NO_MISTAKE = N_("No named mistake so far.")
WIDTH = 640
FONT = 'font-family="system-ui, sans-serif" font-size="13"'


def _svg(height: int, label: str, body: list[str]) -> str:
    return (f'<svg class="plot" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" {FONT}>'
            f"<title>{escape(label)}</title>{''.join(body)}</svg>")  # fmt: skip


def histogram(stats: Analytics) -> str:
    """Students per tenth of the maximum score, as columns with their counts."""
    label = gettext("Score distribution")
    top = max((b.count for b in stats.score_histogram), default=0) or 1
    left, bottom, plot_h = 40, 200, 160
    step = (WIDTH - left - 10) / len(stats.score_histogram)
    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#333"/>']
    for i, b in enumerate(stats.score_histogram):
        h = plot_h * b.count / top
        x = left + i * step
        body.append(f'<rect x="{x + 2:.1f}" y="{bottom - h:.1f}" width="{step - 4:.1f}" '
                    f'height="{h:.1f}" fill="#3f51b5"><title>{b.from_:g}–{b.to:g}%: '
                    f"{b.count}</title></rect>")  # fmt: skip
        if b.count:
            body.append(f'<text x="{x + step / 2:.1f}" y="{bottom - h - 4:.1f}" '
                        f'text-anchor="middle">{b.count}</text>')  # fmt: skip
        body.append(f'<text x="{x + step / 2:.1f}" y="{bottom + 16}" text-anchor="middle">'
                    f"{b.from_:g}–{b.to:g}</text>")  # fmt: skip
    body.append(f'<text x="{WIDTH / 2}" y="{bottom + 34}" text-anchor="middle">'
                f"{escape(gettext(SCORE_AXIS))}</text>")  # fmt: skip
    return _svg(bottom + 44, label, body)


def legend(y: int) -> str:
    """The verdicts' colours, named."""
    items, x = [], 10
    for verdict in VERDICTS:
        name = escape(gettext(VERDICT_NAMES[verdict]))
        items.append(f'<rect x="{x}" y="{y - 11}" width="12" height="12" '
                     f'fill="{COLOURS[verdict]}"/>'
                     f'<text x="{x + 16}" y="{y}">{name}</text>')  # fmt: skip
        x += 30 + 8 * len(name)
    return "".join(items)


def parts(stats: Analytics) -> str:
    """Each part's share of right / carried forward / wrong / blank, as a stacked bar (the
    part named as the lecture writes it, its id in ``data-part``)."""
    label = gettext("Parts: right, carried forward, wrong, blank")
    left, row = 170, 24
    body = [legend(16)]
    for i, (name, counts) in enumerate(stats.parts.items()):
        y = 30 + i * row
        total = sum(counts.values()) or 1
        x = float(left)
        shown = escape(exam_part_label(name))
        body.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" '
                    f'data-part="{escape(name)}">{shown}</text>')  # fmt: skip
        for verdict in VERDICTS:
            w = (WIDTH - left - 10) * counts[verdict] / total
            if w:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 6}" '
                            f'fill="{COLOURS[verdict]}"><title>{shown}: '
                            f"{escape(gettext(VERDICT_NAMES[verdict]))} {counts[verdict]}"
                            "</title></rect>")  # fmt: skip
                if w > 18:
                    body.append(f'<text x="{x + w / 2:.1f}" y="{y + 13}" fill="#fff" '
                                f'text-anchor="middle">{counts[verdict]}</text>')  # fmt: skip
            x += w
    return _svg(40 + row * max(1, len(stats.parts)), label, body)


def misconceptions(stats: Analytics, limit: int = 12) -> str:
    """The named mistakes ranked by how many students made them."""
    label = gettext("Misconceptions, by how many students made them")
    ranked = stats.misconceptions[:limit]
    top = max((m.count for m in ranked), default=0) or 1
    left, row = 300, 26
    body = []
    for i, m in enumerate(ranked):
        y = 8 + i * row
        w = (WIDTH - left - 40) * m.count / top
        title = escape(m.title if len(m.title) < 44 else m.title[:42] + "…")
        body.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{title}</text>'
                    f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 8}" '
                    f'fill="#c62828" data-misconception="{escape(m.id)}"><title>{escape(m.title)}: '
                    f'{m.count}</title></rect><text x="{left + w + 4:.1f}" y="{y + 14}">'
                    f"{m.count}</text>")  # fmt: skip
    if not ranked:
        body.append(f'<text x="10" y="20">{escape(gettext(NO_MISTAKE))}</text>')
    return _svg(16 + row * max(1, len(ranked)), label, body)
