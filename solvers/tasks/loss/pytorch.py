"""The loss task in PyTorch: ``F.multi_margin_loss`` (times C) or ``F.cross_entropy``."""

from __future__ import annotations

from solvers.core import N_
from solvers.pytorch_view import Line, Note, Output, TorchForm, integers, labels, literal, tensor
from solvers.tasks.loss.problem import LossProblem


def torch_form(problem: LossProblem) -> TorchForm:
    """The losses and dL/ds as torch computes them, with the problem's numbers."""
    columns = problem.examples == "columns"
    lines = [Line(tensor(literal(problem.scores), grad=True), "scores")]
    s = "scores"
    if columns:
        s = "s"
        lines.append(
            Line(
                "scores.T",
                s,
                Note(
                    N_("The lecture writes one example per column; torch wants N×C, one per row.")
                ),
            )
        )
    lines.append(Line(labels(integers(problem.labels)), "y"))
    uses_math = False
    if problem.loss == "svm":
        classes = problem.n_classes
        lines.append(
            Line(
                f"F.multi_margin_loss({s}, y, margin={literal(problem.margin)}, "
                f"reduction='none') * {classes}",
                "losses",
                Note(
                    N_(
                        "multi_margin_loss divides the sum over j ≠ y_i by the number of "
                        "classes C = {classes}; times C it is the course's L_i."
                    ),
                    {"classes": classes},
                ),
            )
        )
    elif problem.log_base == "e":
        lines.append(
            Line(
                f"F.cross_entropy({s}, y, reduction='none')",
                "losses",
                Note(N_("cross_entropy is −log of the correct class's softmax probability (ln).")),
            )
        )
    else:
        uses_math = True
        lines.append(
            Line(
                f"F.cross_entropy({s}, y, reduction='none') / math.log({problem.log_base})",
                "losses",
                Note(
                    N_(
                        "cross_entropy uses the natural log; dividing by ln {base} gives log base "
                        "{base}."
                    ),
                    {"base": problem.log_base},
                ),
            )
        )
    lines.append(Line(f"losses.{problem.reduction}()", "data_loss"))
    if problem.weights is None:
        lines.append(Line(tensor("0.0"), "reg_loss"))
    else:
        factor = problem.reg if problem.reg_convention == "l2" else problem.reg / 2
        lines.append(Line(tensor(literal(problem.weights)), "W"))
        lines.append(Line(f"{literal(factor)} * (W ** 2).sum()", "reg_loss"))
    lines += [Line("data_loss + reg_loss", "loss"), Line("loss.backward()")]
    transposed = ".T" if columns else ""
    outputs = [
        Output("L_i", "losses.tolist()", "per_example"),
        Output("data loss", "data_loss.item()", "data_loss"),
        Output("reg loss", "reg_loss.item()", "reg_loss"),
        Output("loss", "loss.item()", "loss"),
        Output("dL/ds", "scores.grad.tolist()", "grad_scores"),
    ]
    if problem.loss == "softmax":
        outputs.append(
            Output("probabilities", f"F.softmax({s}, dim=1){transposed}.tolist()", "probabilities")
        )
    return TorchForm(tuple(lines), tuple(outputs), functional=True, uses_math=uses_math)
