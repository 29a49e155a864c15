"""The conv task's view: pooling as three form fields, and the key's table without the
intermediate maps when the answer has a pooled output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape
from pydantic import BaseModel

from app.forms import FormAdapter, value_text
from app.i18n import gettext, ngettext
from app.render import matrix
from app.tasks import KeyItem, TaskView
from solvers.core import AnswerCell, NumberFormat
from solvers.tasks.conv.grading import STAGES


class ConvFormAdapter(FormAdapter):
    """Conv's pooling is one nested object in the model, three fields in the form."""

    def to_data(self, form: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
        """The problem's data: ``pool_kind`` ``none`` means no pooling."""
        data = super().to_data(form, model)
        kind = form.get("pool_kind", "max").strip() or "max"
        if kind == "none":
            data["pool"] = None
        else:
            pool = {"kind": kind}
            for part in ("size", "stride"):
                if form.get(f"pool_{part}", "").strip():
                    pool[part] = form[f"pool_{part}"]
            data["pool"] = pool
        return data

    def form_field(self, field: str) -> str:
        """``pool.size`` is the form's ``pool_size``."""
        return field.replace(".", "_") if field.startswith("pool.") else super().form_field(field)

    def to_form(self, problem: BaseModel) -> dict[str, str]:
        """Filters one block per channel, filters apart by ``---``; pooling as three fields."""
        form = super().to_form(problem)
        filters = problem.filters  # type: ignore[attr-defined]
        form["filters"] = "\n---\n".join(value_text(kernel) for kernel in filters)
        pool = problem.pool  # type: ignore[attr-defined]
        form.pop("pool", None)
        form["pool_kind"] = pool.kind if pool else "none"
        form["pool_size"] = (
            value_text(list(pool.size) if isinstance(pool.size, tuple) else pool.size)
            if pool
            else ""
        )
        stride = pool.stride if pool else None
        form["pool_stride"] = value_text(list(stride) if isinstance(stride, tuple) else stride)
        for name in ("stride", "padding"):
            value = getattr(problem, name)
            form[name] = value_text(list(value) if isinstance(value, tuple) else value)
        return form


def _figure(caption: str, tables: list[str]) -> str:
    return (
        f'    <figure class="stage">\n      <figcaption>{caption}</figcaption>\n'
        f"{''.join(tables)}    </figure>\n"
    )


def conv_maps(solution: Any, problem: Any, fmt: NumberFormat) -> Markup:
    """The page's maps, stage by stage: the (padded) input, the kernels as applied, the conv
    maps, ReLU's and the pooled ones; tables that conv.js reads by stage and map."""
    answer, shapes, bias = solution.answer, solution.answer.shapes, solution.bias
    padded = solution.padded
    channel, filter_word = gettext("channel"), gettext("filter")
    figures = [
        _figure(
            gettext("Input, padded") if any(solution.padding) else gettext("Input"),
            [
                matrix(
                    grid,
                    fmt,
                    stage="input",
                    index=c,
                    pad=solution.padding,
                    caption=Markup(f"{channel} {c + 1}") if len(padded) > 1 else None,
                )
                for c, grid in enumerate(padded)
            ],
        ),
        _figure(
            gettext("Kernels (flipped)") if problem.mode == "convolution" else gettext("Kernels"),
            [
                matrix(
                    grid,
                    fmt,
                    stage="kernel",
                    index=f"{k}-{c}",
                    caption=Markup(
                        f"{filter_word} {k + 1}"
                        + (f", {channel} {c + 1}" if len(kernel) > 1 else "")
                        + (f", b = {fmt.num(bias[k])}" if bias[k] else "")
                    ),
                )
                for k, kernel in enumerate(solution.kernels)
                for c, grid in enumerate(kernel)
            ],
        ),
        _figure(
            gettext("Convolution") + f" {'×'.join(map(str, shapes.conv))}",
            [
                matrix(m, fmt, stage="conv", index=i, cls="result")
                for i, m in enumerate(answer.conv)
            ],
        ),
    ]
    if answer.activation:
        figures.append(
            _figure(
                "ReLU",
                [
                    matrix(m, fmt, stage="activation", index=i, cls="result")
                    for i, m in enumerate(answer.activation)
                ],
            )
        )
    if answer.pool:
        kind = gettext("max-pool") if problem.pool.kind == "max" else gettext("average pool")
        figures.append(
            _figure(
                f"{kind} {'×'.join(map(str, shapes.pool))}",
                [
                    matrix(m, fmt, stage="pool", index=i, cls="result output")
                    for i, m in enumerate(answer.pool)
                ],
            )
        )
    return Markup(f'<div class="maps" id="maps">\n{"".join(figures)}  </div>')


def understood(solution: Any) -> Markup:
    """The answer's first line: the shapes the problem was read as."""
    shapes, kernels = solution.answer.shapes, solution.kernels
    c, k = shapes.input[0], len(kernels)
    text = gettext("Understood as an image {h}×{w} with {channels} and {filters} of {c}×{fh}×{fw}.")
    # the message is markup, as the templates' messages are; its values escaped (what
    # Markup.format does, at a tenth of its cost)
    return Markup(
        text.format(
            channels=escape(ngettext("{n} channel", "{n} channels", c).format(n=c)),
            filters=escape(ngettext("{n} filter", "{n} filters", k).format(n=k)),
            c=c,
            h=shapes.input[1],
            w=shapes.input[2],
            fh=len(kernels[0][0]),
            fw=len(kernels[0][0][0]),
        )
    )


def conv_data(solution: Any, problem: Any, fmt: NumberFormat) -> Markup:
    """What conv.js reads (the grids, windows, number format and words) as the page's JSON,
    as Jinja's ``tojson`` writes it (keys sorted, HTML's special characters escaped)."""
    answer, pool_windows = solution.answer, solution.pool_windows
    data = {
        "padded": solution.padded,
        "kernels": solution.kernels,
        "bias": solution.bias,
        "conv_windows": dict(solution.conv_windows),  # a flat model: its fields
        "pool_windows": dict(pool_windows) if pool_windows else None,
        "conv": answer.conv,
        "activation": answer.activation,
        "pool_kind": problem.pool.kind if problem.pool else None,
        "digits": fmt.digits,
        "decimal_comma": fmt.decimal_comma,
        "words": {
            "cell": gettext("cell"),
            "map": gettext("map"),
            "relu": gettext("ReLU keeps it"),
            "zeroed": gettext("ReLU makes it 0"),
            "max": gettext("the largest of"),
            "avg": gettext("the mean of"),
        },
    }
    return htmlsafe_json_dumps(data, sort_keys=True)


KEY_NAMES = {"conv": r"\text{conv}", "activation": r"\text{ReLU}", "pool": r"\text{pool}"}
"""The key's names of the maps."""


class ConvView(TaskView):
    """Maps are typed in text areas; the key's table lists every map as a small grid."""

    def page_context(self, solution: Any, problem: Any, fmt: NumberFormat) -> dict[str, Any]:
        """The answer's first line and the page's JSON for conv.js (built here: in the
        template they cost a tenth of the page)."""
        return {
            "understood": understood(solution),
            "conv_data": conv_data(solution, problem, fmt),
        }

    def key_items(self, answer: Any, cells: list[AnswerCell]) -> list[KeyItem]:
        """The conv map, the ReLU map and the pooled map (those the answer has), each a grid
        of its cells (``answer_cells`` lists them in this order)."""
        remaining = iter(cells)
        items = []
        for stage in STAGES:
            maps = getattr(answer, stage)
            for k, grid in enumerate(maps or [], start=1):
                label = KEY_NAMES[stage] + (f"_{{{k}}}" if len(maps) > 1 else "")
                rows = [[next(remaining) for _ in row] for row in grid]
                items.append(KeyItem(label, rows))
        return items


VIEW = ConvView(
    adapter=ConvFormAdapter(), multiline_answers=True, template_globals={"conv_maps": conv_maps}
)
