"""The loss task's worked solver: ``solve`` in float64 with plain :mod:`math`, explained in
the lecture's notation."""

from __future__ import annotations

import math
from typing import Any

from solvers.core import N_, NumberFormat, OwnSteps, Step, step
from solvers.tasks.loss.compute import LossBatch, loss_tensors, reg_terms
from solvers.tasks.loss.problem import LossAnswer, LossProblem, LossSolution, transpose

DETAIL_LIMIT = 100
"""Problems with more than this many scores (N·C) get worked steps for a few examples only."""
DETAIL_EXAMPLES = 5
"""How many examples are worked step by step in a problem past ``DETAIL_LIMIT``."""
MAX_TERMS = 10
"""Longest sum written out term by term in a formula; longer ones are written with Σ."""

_DEFAULT_FORMAT = NumberFormat()
_SoftmaxRow = tuple[float, list[float], list[float], float, list[float], float]
"""One example's max, shifted scores, exponentials, their sum, probabilities and loss."""
_LOG_TEX = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}


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
        return f"{sign} (" + self.fmt.separator.join(self.tex(x) for x in xs) + ")"

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
                rf"L_i = \sum_{{j \ne y_i}} \max(0{self.fmt.comma}\ s_j - s_{{y_i}} + \Delta),"
                r" \quad \Delta = " + self.tex(p.margin),
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
        return step(
            kind="loss.formula",
            title=title,
            text=N_(
                "Examples: {examples}, classes: {classes}; s_j is the score of class j and "
                "y_i the correct class of example i."
            ),
            params={"examples": p.n_examples, "classes": p.n_classes},
            formulas=formulas,
        )

    def svm_example(
        self, i: int, s: list[float], y: int, raw: list[float], hinge: list[float], loss: float
    ) -> Step:
        """Example ``i``: its margins s_j − s_y + Δ (``raw``), their hinge and L_i."""
        tex, margin = self.tex, self.problem.margin
        others = [j for j in range(len(s)) if j != y]
        lhs = f"L_{{{i}}}"
        comma = self.fmt.comma
        if not others:
            formulas = [f"{lhs} = 0"]
        elif len(others) <= MAX_TERMS:
            sy, delta = tex(s[y], paren=True), tex(margin)
            formulas = [
                f"{lhs} = "
                + " + ".join(rf"\max(0{comma}\ {tex(s[j])} - {sy} + {delta})" for j in others),
                "= " + " + ".join(rf"\max(0{comma}\ {tex(raw[j])})" for j in others),
                "= "
                + " + ".join(tex(hinge[j]) for j in others)
                + (" " + self.equals(loss) if len(others) > 1 else ""),
            ]
        else:
            formulas = [
                rf"{lhs} = \sum_{{j \ne y_{{{i}}}}} \max(0{comma}\ s_j - {tex(s[y], paren=True)} + "
                rf"{tex(margin)}) {self.equals(loss)}"
            ]
        return step(
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

    def softmax_example(self, i: int, s: list[float], y: int, row: _SoftmaxRow) -> Step:
        """Example ``i``: the shifted scores, their exponentials, P(y_i | x_i) and L_i."""
        tex = self.tex
        top, shifted, exps, total, probabilities, loss = row
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
        return step(
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
        return step(
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
        return step(
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
        return step(
            kind="loss.reg",
            title=N_("Regularization"),
            text=text,
            params={"reg": p.reg, "convention": p.reg_convention},
            formulas=formulas,
            values={N_("sum_of_squares"): squares, N_("reg_loss"): reg_loss},
        )

    def total(self, data_loss: float, reg_loss: float, loss: float) -> Step:
        return step(
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
        return step(
            kind="loss.grad",
            title=N_("Gradient with respect to the scores"),
            text=text,
            formulas=[" ".join(f.split()) for f in formulas],
            values={N_("grad_scores"): grad},
        )


def solve(problem: LossProblem, fmt: NumberFormat = _DEFAULT_FORMAT) -> LossSolution:
    """The losses, the gradient with respect to the scores, and the worked steps.

    The numbers are :func:`~solvers.tasks.loss.compute.loss_tensors` of a batch of one.
    """
    t = loss_tensors(LossBatch.from_problems([problem], device=None))
    rows, labels = problem.rows(), problem.labels
    n = len(rows)
    losses = t.per_example[0].tolist()
    data_loss, reg_loss, loss = t.data_loss.item(), t.reg_loss.item(), t.loss.item()
    steps = _Steps(problem, fmt)
    shown = n if n * len(rows[0]) <= DETAIL_LIMIT else min(n, DETAIL_EXAMPLES)
    out: list[Step] = [steps.formula()]
    if t.raw is not None:
        raw, margins = t.raw[0].tolist()[:shown], t.extra[0].tolist()
        out += [
            steps.svm_example(i + 1, rows[i], labels[i], raw[i], margins[i], losses[i])
            for i in range(shown)
        ]
    else:
        assert t.top is not None and t.sums is not None and t.shifted is not None
        assert t.exps is not None and t.probabilities is not None
        columns = zip(
            t.top[0, :shown, 0].tolist(),
            t.shifted[0, :shown].tolist(),
            t.exps[0, :shown].tolist(),
            t.sums[0, :shown, 0].tolist(),
            t.probabilities[0, :shown].tolist(),
            losses[:shown],
            strict=True,
        )
        out += [
            steps.softmax_example(i + 1, rows[i], labels[i], row) for i, row in enumerate(columns)
        ]
    if shown < n:
        out.append(steps.summary(shown, losses))
    out.append(steps.reduce(losses, data_loss))
    if problem.weights is not None:
        squares = reg_terms(problem)[0]
        out.append(steps.regularization(problem.weights, squares, reg_loss))
        out.append(steps.total(data_loss, reg_loss, loss))
    layout = transpose if problem.examples == "columns" else list
    grad = layout(t.grad[0].tolist())
    out.append(steps.gradient(grad))
    extra = layout(t.extra[0].tolist())
    answer = LossAnswer(
        per_example=losses,
        data_loss=data_loss,
        reg_loss=reg_loss,
        loss=loss,
        grad_scores=grad,
        probabilities=extra if t.probabilities is not None else None,
        margins=extra if t.raw is not None else None,
    )
    return LossSolution(answer=answer, steps=out)


QUICK_CELLS = 100
"""The most scores of a problem solved where the server stands (:func:`quick`): up to
these every example's steps are written, in a fraction of a millisecond."""


def quick(problem: LossProblem) -> bool:
    """Whether the problem is small enough to solve without a worker thread
    (:attr:`solvers.core.Task.quick`)."""
    return len(problem.scores) * len(problem.scores[0]) <= QUICK_CELLS


def own_steps(problem: LossProblem, given: dict[str, Any], fmt: NumberFormat) -> OwnSteps:
    """The average (or sum) over the examples written with the student's own L_i, when they
    gave every one of them."""
    reads = {"loss.reduce": ("per_example",)}
    mine = given.get("per_example")
    total = math.nan if mine is None else sum(mine)  # inf rather than fsum's OverflowError
    if not math.isfinite(total):
        return OwnSteps(reads, [])
    scale = len(mine) if problem.reduction == "mean" else 1
    return OwnSteps(reads, [_Steps(problem, fmt).reduce(mine, total / scale)])
