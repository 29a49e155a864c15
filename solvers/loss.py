"""The loss task: multiclass SVM (hinge) or Softmax cross-entropy loss from a score matrix.

``solve`` works one problem in float64 with plain :mod:`math` and explains it in the
lecture's notation; ``solve_batch`` computes the same answers for many problems at once
with torch over a leading batch dimension.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_, NumberFormat, Solution, Step, Task, resolve_device
from solvers.matrix import coerce_matrix, coerce_vector

MAX_SIDE = 100
"""At most this many examples and this many classes (and rows and columns of W)."""
MAX_ABS = 1e12
"""Largest magnitude of a score, weight, margin or λ: keeps every result finite."""
MAX_NAME_LENGTH = 40
"""Longest class name."""
DETAIL_LIMIT = 100
"""Problems with more than this many scores (N·C) get worked steps for a few examples only."""
DETAIL_EXAMPLES = 5
"""How many examples are worked step by step in a problem past ``DETAIL_LIMIT``."""
MAX_TERMS = 10
"""Longest sum written out term by term in a formula; longer ones are written with Σ."""

_DEFAULT_FORMAT = NumberFormat()
_LN_BASE = {"e": 1.0, "10": math.log(10.0), "2": math.log(2.0)}
_LOG_TEX = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}


def _error(template: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("loss", template, context)


def _bounded_matrix(value: Any) -> list[list[float]]:
    matrix = coerce_matrix(value, MAX_SIDE, MAX_SIDE)
    for r, row in enumerate(matrix, start=1):
        for c, x in enumerate(row, start=1):
            if abs(x) > MAX_ABS:
                raise _error(
                    N_("row {row}, column {col}: {value} is too large; at most {limit} in size"),
                    row=r,
                    col=c,
                    value=f"{x:g}",
                    limit=f"{MAX_ABS:g}",
                )
    return matrix


def _optional_matrix(value: Any) -> list[list[float]] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _bounded_matrix(value)


def _labels(value: Any) -> list[int]:
    labels = []
    for i, x in enumerate(coerce_vector(value, MAX_SIDE), start=1):
        if not x.is_integer():
            raise _error(
                N_("the label of example {i} is {label}; labels are class numbers 0, 1, 2, …"),
                i=i,
                label=x,
            )
        labels.append(int(x))
    return labels


def _class_names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.split(",") if "," in value else value.split()
    if not value:
        return None
    if not isinstance(value, list):
        return value  # pydantic reports the wrong type
    names = [v.strip() if isinstance(v, str) else v for v in value]
    for i, name in enumerate(names, start=1):
        if isinstance(name, str) and not name:
            raise _error(N_("class name {index} is empty"), index=i)
        if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
            raise _error(
                N_("class name {index} is longer than {limit} characters"),
                index=i,
                limit=MAX_NAME_LENGTH,
            )
    return names


def _decimal(value: Any) -> Any:
    """Accept a decimal comma and a typographic minus in a number typed as text."""
    if isinstance(value, str):
        return value.strip().replace(",", ".").replace("\u2212", "-")
    return value


Matrix = Annotated[
    list[list[float]],
    BeforeValidator(_bounded_matrix, json_schema_input_type=list[list[float]] | str),
]
OptionalMatrix = Annotated[
    list[list[float]] | None,
    BeforeValidator(_optional_matrix, json_schema_input_type=list[list[float]] | str | None),
]
Labels = Annotated[list[int], BeforeValidator(_labels, json_schema_input_type=list[int] | str)]
ClassNames = Annotated[
    list[str] | None,
    BeforeValidator(_class_names, json_schema_input_type=list[str] | str | None),
]
Decimal = Annotated[float, BeforeValidator(_decimal, json_schema_input_type=float | str)]


class LossProblem(BaseModel):
    """A score matrix, the correct class of each example, and the loss to compute."""

    model_config = ConfigDict(extra="forbid")

    scores: Matrix = Field(
        description=(
            "Class scores: a matrix as nested lists or text ('3.2 1.3; 5.1 4.9'). With "
            f"examples='columns' rows are classes and columns are examples (the lecture's "
            f"table); with 'rows' it is N×C. At most {MAX_SIDE} examples × {MAX_SIDE} classes."
        )
    )
    labels: Labels = Field(
        description="The correct class of each example: 0-based class numbers ('0 1 2').",
    )
    class_names: ClassNames = Field(
        default=None,
        description=(
            "Optional names of the classes in order, as a list or text ('cat, car, frog'), "
            f"at most {MAX_NAME_LENGTH} characters each."
        ),
    )
    examples: Literal["columns", "rows"] = Field(
        default="columns",
        description=(
            "'columns': each column of scores is an example, rows are classes (the lecture); "
            "'rows': each row is an example (N×C, as in code)."
        ),
    )
    loss: Literal["svm", "softmax"] = Field(
        default="svm", description="'svm': multiclass hinge loss; 'softmax': cross-entropy."
    )
    margin: Decimal = Field(
        default=1.0,
        ge=0,
        le=MAX_ABS,
        allow_inf_nan=False,
        description="SVM margin Δ ≥ 0 in max(0, s_j − s_{y_i} + Δ).",
    )
    log_base: Literal["e", "10", "2"] = Field(
        default="e",
        description="Softmax logarithm base: 'e' (natural, the usual), '10' or '2'.",
    )
    reduction: Literal["mean", "sum"] = Field(
        default="mean", description="Data loss as the mean or the sum of the per-example losses."
    )
    reg: Decimal = Field(
        default=0.0,
        ge=0,
        le=MAX_ABS,
        allow_inf_nan=False,
        description="Regularization strength λ ≥ 0; λ > 0 needs weights.",
    )
    weights: OptionalMatrix = Field(
        default=None,
        description=f"Weights W for the regularization term R(W) = ΣW², at most {MAX_SIDE}×"
        f"{MAX_SIDE}.",
    )
    reg_convention: Literal["l2", "half_l2"] = Field(
        default="l2",
        description="'l2': the regularization loss is λΣW²; 'half_l2': it is ½λΣW².",
    )

    @property
    def n_examples(self) -> int:
        """N, the number of examples."""
        return len(self.scores[0]) if self.examples == "columns" else len(self.scores)

    @property
    def n_classes(self) -> int:
        """C, the number of classes."""
        return len(self.scores) if self.examples == "columns" else len(self.scores[0])

    @model_validator(mode="after")
    def _consistent(self) -> LossProblem:
        n, c = self.n_examples, self.n_classes
        if len(self.labels) != n:
            raise _error(
                N_(
                    "one label per example is needed: the scores have {examples} examples, "
                    "labels given: {count}"
                ),
                count=len(self.labels),
                examples=n,
                field="labels",
            )
        for i, label in enumerate(self.labels, start=1):
            if not 0 <= label < c:
                raise _error(
                    N_(
                        "the label of example {i} is {label}, but there are only {classes} "
                        "classes (0 … {last})"
                    ),
                    i=i,
                    label=label,
                    classes=c,
                    last=c - 1,
                    field="labels",
                )
        if self.class_names is not None and len(self.class_names) != c:
            raise _error(
                N_(
                    "one name per class is needed: there are {classes} classes, "
                    "names given: {count}"
                ),
                count=len(self.class_names),
                classes=c,
                field="class_names",
            )
        if self.reg > 0 and self.weights is None:
            raise _error(
                N_("regularization λ = {reg} needs the weights W"), reg=self.reg, field="weights"
            )
        return self

    def rows(self) -> list[list[float]]:
        """The scores as N×C (one row per example) whatever the input layout."""
        return _transpose(self.scores) if self.examples == "columns" else self.scores


class LossAnswer(BaseModel):
    """The losses and the gradient; matrices are in the layout of the input scores."""

    per_example: list[float] = Field(description="L_i for each example.")
    data_loss: float = Field(description="Mean (or sum) of the L_i.")
    reg_loss: float = Field(description="λΣW² or ½λΣW² (0 without regularization).")
    loss: float = Field(description="data_loss + reg_loss.")
    grad_scores: list[list[float]] = Field(
        description="dL/ds of the total loss, in the layout of the input scores."
    )
    probabilities: list[list[float]] | None = Field(
        default=None, description="Softmax: the class probabilities, in the layout of scores."
    )
    margins: list[list[float]] | None = Field(
        default=None,
        description="SVM: max(0, s_j − s_{y_i} + Δ), 0 at the correct class, layout of scores.",
    )


class LossSolution(Solution):
    """The loss task's answer and its worked steps."""

    task: Literal["loss"] = "loss"
    answer: LossAnswer


def _transpose(matrix: list[list[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*matrix, strict=True)]


def _hinge_rows(rows: list[list[float]], labels: list[int], margin: float) -> list[list[float]]:
    """max(0, s_j − s_y + Δ) per example, 0 at the correct class.

    Evaluated as (Δ − s_y) + s_j, the order torch's multi_margin_loss uses.
    """
    result = []
    for s, y in zip(rows, labels, strict=True):
        base = margin - s[y]
        result.append([0.0 if j == y else max(0.0, base + v) for j, v in enumerate(s)])
    return result


def _softmax_row(s: list[float]) -> tuple[float, list[float], list[float], float]:
    """The max, the shifted scores, their exponentials and the sum of the exponentials."""
    top = max(s)
    shifted = [v - top for v in s]
    exps = [math.exp(t) for t in shifted]
    return top, shifted, exps, math.fsum(exps)


class _Steps:
    """Formats the numbers of one problem into steps."""

    def __init__(self, problem: LossProblem, fmt: NumberFormat) -> None:
        self.problem = problem
        self.fmt = fmt
        self.exact = problem.loss == "svm"

    def tex(self, x: float, paren: bool = False) -> str:
        return self.fmt.tex(x, paren=paren)

    def equals(self, x: float, exact: bool | None = None) -> str:
        """``= x``, ``= 79/15 ≈ 5.2667`` or ``≈ x``: the honest sign and value.

        Exact fractions are shown where the arithmetic kept the inputs rational.
        """
        if self.exact if exact is None else exact:
            text = self.fmt.tex_exact(x)
            return text if text.startswith("\\approx") else "= " + text
        return ("\\approx " if self.fmt.is_rounded(x) else "= ") + self.tex(x)

    def vector(self, xs: list[float]) -> str:
        sign = "\\approx" if any(self.fmt.is_rounded(x) for x in xs) else "="
        return f"{sign} (" + ", ".join(self.tex(x) for x in xs) + ")"

    def class_name(self, label: int) -> str:
        names = self.problem.class_names
        return names[label] if names else str(label)

    def formula(self) -> Step:
        p = self.problem
        reg = ""
        if p.weights is not None:
            reg = r" + \lambda R(W)" if p.reg_convention == "l2" else r" + \tfrac{1}{2}\lambda R(W)"
        total = (
            r"L = \frac{1}{N} \sum_{i=1}^{N} L_i"
            if p.reduction == "mean"
            else r"L = \sum_{i=1}^{N} L_i"
        ) + reg
        if p.loss == "svm":
            title = N_("Multiclass SVM loss")
            formulas = [
                r"L_i = \sum_{j \ne y_i} \max(0,\ s_j - s_{y_i} + \Delta), \quad \Delta = "
                + self.tex(p.margin),
                total,
            ]
        else:
            log = _LOG_TEX[p.log_base]
            title = N_("Softmax loss")
            formulas = [
                r"P(y_i \mid x_i) = \frac{e^{s_{y_i}}}{\sum_j e^{s_j}}",
                rf"L_i = -{log} P(y_i \mid x_i) = -{log} \frac{{e^{{s_{{y_i}}}}}}"
                r"{\sum_j e^{s_j}}",
                total,
            ]
        return Step(
            kind="loss.formula",
            title=title,
            text=N_(
                "Examples: {examples}, classes: {classes}; s_j is the score of class j and "
                "y_i the correct class of example i."
            ),
            params={"examples": p.n_examples, "classes": p.n_classes},
            formulas=formulas,
        )

    def svm_example(self, i: int, s: list[float], y: int, hinge: list[float], loss: float) -> Step:
        tex, margin = self.tex, self.problem.margin
        others = [j for j in range(len(s)) if j != y]
        lhs = f"L_{{{i}}}"
        if not others:
            formulas = [f"{lhs} = 0"]
        elif len(others) <= MAX_TERMS:
            sy, delta = tex(s[y], paren=True), tex(margin)
            raw = [margin - s[y] + s[j] for j in others]
            formulas = [
                f"{lhs} = "
                + " + ".join(rf"\max(0,\ {tex(s[j])} - {sy} + {delta})" for j in others),
                "= " + " + ".join(rf"\max(0,\ {tex(r)})" for r in raw),
                "= "
                + " + ".join(tex(hinge[j]) for j in others)
                + (" " + self.equals(loss) if len(others) > 1 else ""),
            ]
        else:
            formulas = [
                rf"{lhs} = \sum_{{j \ne y_{{{i}}}}} \max(0,\ s_j - {tex(s[y], paren=True)} + "
                rf"{tex(margin)}) {self.equals(loss)}"
            ]
        return Step(
            kind="svm.example",
            title=N_("Example {i}: correct class {name}"),
            text=N_("Positive margins: {positive} of {others}."),
            params={
                "i": i,
                "label": y,
                "name": self.class_name(y),
                "positive": sum(1 for j in others if hinge[j] > 0),
                "others": len(others),
            },
            formulas=formulas,
            values={N_("scores"): s, N_("margins"): hinge, N_("loss"): loss},
        )

    def softmax_example(self, i: int, s: list[float], y: int, loss: float) -> Step:
        tex = self.tex
        top, shifted, exps, total = _softmax_row(s)
        probabilities = [e / total for e in exps]
        p = probabilities[y]
        m = tex(top, paren=True)
        log = _LOG_TEX[self.problem.log_base]
        prob = rf"P(y_{{{i}}} \mid x_{{{i}}})"
        if len(s) <= MAX_TERMS:
            formulas = [
                rf"s_j - {m} {self.vector(shifted)}",
                rf"e^{{s_j - {m}}} {self.vector(exps)}",
                rf"\sum_j e^{{s_j - {m}}} = "
                + " + ".join(tex(e) for e in exps)
                + " "
                + self.equals(total),
            ]
        else:
            formulas = [rf"\sum_j e^{{s_j - {m}}} {self.equals(total)}"]
        formulas.append(
            rf"{prob} = \frac{{e^{{s_{{y_{{{i}}}}} - {m}}}}}{{\sum_j e^{{s_j - {m}}}}} = "
            rf"\frac{{{tex(exps[y])}}}{{{tex(total)}}} {self.equals(p)}"
        )
        lhs = f"L_{{{i}}} = -{log} {prob}"
        if round(p, self.fmt.digits) > 0:
            formulas.append(f"{lhs} = -{log} {tex(p)} {self.equals(loss)}")
        else:  # p rounds to 0: write −log p as log-sum-exp, which stays finite
            lse = rf"\ln {tex(total)} - {tex(shifted[y], paren=True)}"
            if self.problem.log_base != "e":
                lse = rf"\frac{{{lse}}}{{\ln {self.problem.log_base}}}"
            formulas.append(f"{lhs} = {lse} {self.equals(loss)}")
        return Step(
            kind="softmax.example",
            title=N_("Example {i}: correct class {name}"),
            text=N_(
                "Subtract max s_j = {max} for numerical stability; the probabilities do not change."
            ),
            params={"i": i, "label": y, "name": self.class_name(y), "max": self.fmt.num(top)},
            formulas=formulas,
            values={
                N_("scores"): s,
                N_("shifted"): shifted,
                N_("exp"): exps,
                N_("sum"): total,
                N_("probabilities"): probabilities,
                N_("loss"): loss,
            },
        )

    def summary(self, shown: int, losses: list[float]) -> Step:
        return Step(
            kind="loss.summary",
            title=N_("The other examples"),
            text=N_("{more} more examples are computed the same way; every L_i is in the answer."),
            params={"more": len(losses) - shown, "shown": shown},
            values={N_("per_example"): losses},
        )

    def reduce(self, losses: list[float], data_loss: float) -> Step:
        n = len(losses)
        terms = " + ".join(self.tex(x) for x in losses)
        mean = self.problem.reduction == "mean"
        title = N_("Average over the examples") if mean else N_("Sum over the examples")
        if n == 1:
            formula = "L = L_{1}"
        elif mean:
            if n <= MAX_TERMS:
                formula = rf"L = \frac{{1}}{{{n}}}({terms})"
            else:
                formula = (
                    rf"L = \frac{{1}}{{{n}}} \sum_{{i=1}}^{{{n}}} L_i = \frac{{1}}{{{n}}}"
                    rf" \cdot {self.tex(math.fsum(losses))}"
                )
        else:
            formula = f"L = {terms}" if n <= MAX_TERMS else rf"L = \sum_{{i=1}}^{{{n}}} L_i"
        return Step(
            kind="loss.reduce",
            title=title,
            params={"examples": n},
            formulas=[f"{formula} {self.equals(data_loss)}"],
            values={N_("per_example"): losses, N_("data_loss"): data_loss},
        )

    def regularization(self, weights: list[list[float]], squares: float, reg_loss: float) -> Step:
        p, tex = self.problem, self.tex
        flat = [w for row in weights for w in row]
        r = r"R(W) = \sum_{k,l} W_{k,l}^2"
        if len(flat) <= MAX_TERMS:
            r += " = " + " + ".join(f"{tex(w, paren=True)}^2" for w in flat)
        if p.reg_convention == "l2":
            text = N_("L2 regularization: R(W) = ΣW², added as λ·R(W).")
            term = rf"\lambda R(W) = {tex(p.reg)} \cdot {tex(squares)}"
        else:
            text = N_("L2 regularization with the ½ convention: R(W) = ΣW², added as ½·λ·R(W).")
            term = (
                rf"\tfrac{{1}}{{2}} \lambda R(W) = \tfrac{{1}}{{2}} \cdot {tex(p.reg)} \cdot "
                rf"{tex(squares)}"
            )
        # squares and products of decimals stay rational
        formulas = [f"{r} {self.equals(squares, True)}", f"{term} {self.equals(reg_loss, True)}"]
        return Step(
            kind="loss.reg",
            title=N_("Regularization"),
            text=text,
            params={"reg": p.reg, "convention": p.reg_convention},
            formulas=formulas,
            values={N_("sum_of_squares"): squares, N_("reg_loss"): reg_loss},
        )

    def total(self, data_loss: float, reg_loss: float, loss: float) -> Step:
        return Step(
            kind="loss.total",
            title=N_("Total loss"),
            formulas=[f"L = {self.tex(data_loss)} + {self.tex(reg_loss)} {self.equals(loss)}"],
            values={N_("loss"): loss},
        )

    def gradient(self, grad: list[list[float]]) -> Step:
        p = self.problem
        denominator = str(p.n_examples) if p.reduction == "mean" and p.n_examples > 1 else ""
        if p.loss == "softmax" and p.log_base != "e":
            denominator = rf"{denominator} \ln {p.log_base}".strip()
        factor = rf"\frac{{1}}{{{denominator}}}" if denominator else ""
        lhs = r"\frac{\partial L}{\partial s_{ij}}"
        if p.loss == "svm":
            indicator = r"\mathbb{1}[s_j - s_{y_i} + \Delta > 0]"
            text = N_(
                "A class with a positive margin gets 1, the correct class gets minus the "
                "number of positive margins. The regularization term does not depend on "
                "the scores."
            )
            formulas = [
                rf"{lhs} = {factor} {indicator}, \quad j \ne y_i",
                rf"\frac{{\partial L}}{{\partial s_{{i y_i}}}} = -{factor} \sum_{{j \ne y_i}} "
                + indicator,
            ]
        else:
            text = N_(
                "The probabilities minus 1 at the correct class. The regularization term "
                "does not depend on the scores."
            )
            formulas = [rf"{lhs} = {factor} (P_{{ij}} - \mathbb{{1}}[j = y_i])"]
        return Step(
            kind="loss.grad",
            title=N_("Gradient with respect to the scores"),
            text=text,
            formulas=[" ".join(f.split()) for f in formulas],
            values={N_("grad_scores"): grad},
        )


def solve(problem: LossProblem, fmt: NumberFormat = _DEFAULT_FORMAT) -> LossSolution:
    """The losses, the gradient with respect to the scores, and the worked steps."""
    rows, labels = problem.rows(), problem.labels
    n = len(rows)
    scale = 1.0 / n if problem.reduction == "mean" else 1.0
    steps = _Steps(problem, fmt)
    shown = n if n * len(rows[0]) <= DETAIL_LIMIT else min(n, DETAIL_EXAMPLES)
    out: list[Step] = [steps.formula()]
    hinge = probabilities = None
    if problem.loss == "svm":
        hinge = _hinge_rows(rows, labels, problem.margin)
        losses = [math.fsum(h) for h in hinge]
        grad = []
        for h, y in zip(hinge, labels, strict=True):
            g = [scale if x > 0 else 0.0 for x in h]
            count = sum(1 for x in h if x > 0)
            g[y] = -scale * count if count else 0.0
            grad.append(g)
        out += [
            steps.svm_example(i + 1, rows[i], labels[i], hinge[i], losses[i]) for i in range(shown)
        ]
    else:
        ln_base = _LN_BASE[problem.log_base]
        losses, probabilities, grad = [], [], []
        for s, y in zip(rows, labels, strict=True):
            _, shifted, exps, total = _softmax_row(s)
            losses.append((math.log(total) - shifted[y]) / ln_base)
            p = [e / total for e in exps]
            g = [x * scale / ln_base for x in p]
            g[y] = (p[y] - 1.0) * scale / ln_base
            probabilities.append(p)
            grad.append(g)
        out += [steps.softmax_example(i + 1, rows[i], labels[i], losses[i]) for i in range(shown)]
    if shown < n:
        out.append(steps.summary(shown, losses))
    data_loss = math.fsum(losses) * scale
    out.append(steps.reduce(losses, data_loss))
    reg_loss = 0.0
    if problem.weights is not None:
        squares = math.fsum(w * w for row in problem.weights for w in row)
        coefficient = problem.reg if problem.reg_convention == "l2" else problem.reg / 2
        reg_loss = coefficient * squares
        out.append(steps.regularization(problem.weights, squares, reg_loss))
        out.append(steps.total(data_loss, reg_loss, data_loss + reg_loss))
    layout = _transpose if problem.examples == "columns" else list
    grad = layout(grad)
    out.append(steps.gradient(grad))
    answer = LossAnswer(
        per_example=losses,
        data_loss=data_loss,
        reg_loss=reg_loss,
        loss=data_loss + reg_loss,
        grad_scores=grad,
        probabilities=None if probabilities is None else layout(probabilities),
        margins=None if hinge is None else layout(hinge),
    )
    return LossSolution(answer=answer, steps=out)


def loss_tensors(
    kind: str, scores: Any, labels: Any, parameter: Any, scale: Any
) -> tuple[Any, Any, Any, Any]:
    """The losses of B problems of one kind from tensors, without pydantic objects.

    ``scores`` is (B, N, C) float64 (one row per example), ``labels`` (B, N) long,
    ``parameter`` (B,) the SVM margin Δ or the softmax ln(log base), ``scale`` (B,) 1/N for
    the mean or 1 for the sum. Returns the per-example losses (B, N), the data losses (B,),
    dL/ds (B, N, C) and the margins (SVM) or probabilities (softmax) (B, N, C).
    """
    import torch

    onehot = torch.nn.functional.one_hot(labels, scores.shape[2]).bool()
    correct = scores.gather(2, labels.unsqueeze(2))
    parameter = parameter[:, None, None]
    if kind == "svm":
        raw = (parameter - correct) + scores  # the order of _hinge_rows and torch
        positive = (raw > 0) & ~onehot
        extra = torch.where(positive, raw, torch.zeros_like(raw))
        per_example = extra.sum(2)
        grad = positive.double() - onehot.double() * positive.sum(2, keepdim=True)
    else:
        per_example = ((torch.logsumexp(scores, 2, keepdim=True) - correct) / parameter).squeeze(2)
        extra = torch.softmax(scores, 2)
        grad = (extra - onehot.double()) / parameter
    return per_example, per_example.sum(1) * scale, grad * scale[:, None, None], extra


def _group_key(problem: LossProblem) -> tuple[Any, ...]:
    weights = problem.weights
    shape = None if weights is None else (len(weights), len(weights[0]))
    return problem.loss, problem.examples, len(problem.scores), len(problem.scores[0]), shape


def solve_batch(problems: Sequence[LossProblem], device: Any = None) -> list[LossAnswer]:
    """``solve``'s answers for many problems: vectorized torch over groups of one shape.

    Problems with the same loss, layout and shapes are stacked into (B, N, C) float64
    tensors on ``device`` (``None``: ``STEPGRAD_DEVICE``); margins, λ, log bases and
    reductions may differ within a group.
    """
    import torch

    device = resolve_device() if device is None else torch.device(device)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, problem in enumerate(problems):
        groups.setdefault(_group_key(problem), []).append(index)
    answers: list[LossAnswer | None] = [None] * len(problems)
    for (kind, layout, _, _, weights_shape), indices in groups.items():
        group = [problems[i] for i in indices]
        f64 = {"dtype": torch.float64, "device": device}
        scores = torch.tensor([p.scores for p in group], **f64)
        if layout == "columns":
            scores = scores.transpose(1, 2)
        labels = torch.tensor([p.labels for p in group], dtype=torch.long, device=device)
        n = scores.shape[1]
        scale = torch.tensor([1.0 / n if p.reduction == "mean" else 1.0 for p in group], **f64)
        if kind == "svm":
            parameter = torch.tensor([p.margin for p in group], **f64)
        else:
            parameter = torch.tensor([_LN_BASE[p.log_base] for p in group], **f64)
        per_example, data_loss, grad, extra = loss_tensors(kind, scores, labels, parameter, scale)
        if weights_shape is None:
            reg_loss = torch.zeros_like(data_loss)
        else:
            weights = torch.tensor([p.weights for p in group], **f64)
            coefficient = torch.tensor(
                [p.reg if p.reg_convention == "l2" else p.reg / 2 for p in group], **f64
            )
            reg_loss = coefficient * (weights * weights).sum((1, 2))
        if layout == "columns":
            grad, extra = grad.transpose(1, 2), extra.transpose(1, 2)
        columns = zip(
            per_example.tolist(),
            data_loss.tolist(),
            reg_loss.tolist(),
            (data_loss + reg_loss).tolist(),
            grad.tolist(),
            extra.tolist(),
            strict=True,
        )
        for i, (losses, data, reg, total, g, e) in zip(indices, columns, strict=True):
            answers[i] = LossAnswer.model_construct(
                per_example=losses,
                data_loss=data,
                reg_loss=reg,
                loss=total,
                grad_scores=g,
                probabilities=e if kind == "softmax" else None,
                margins=e if kind == "svm" else None,
            )
    return answers  # type: ignore[return-value]


def example() -> LossProblem:
    """The lecture's example: three images (columns), classes cat, car, frog (rows)."""
    return LossProblem(
        scores=[[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]],
        labels=[0, 1, 2],
        class_names=["cat", "car", "frog"],
    )


TASK = Task(
    id="loss",
    title=N_("Loss function"),
    summary=N_("Multiclass SVM or Softmax loss from a score matrix"),
    problem_model=LossProblem,
    answer_model=LossAnswer,
    solution_model=LossSolution,
    solve=solve,
    solve_batch=solve_batch,
    example=example,
)
