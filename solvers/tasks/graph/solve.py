"""The graph task's worked solver ``solve`` and the batched ``solve_batch``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from solvers.core import N_, NP_, NumberFormat, OwnSteps, resolve_device, step
from solvers.tasks.graph.compute import F64, check, evaluate_given, passes
from solvers.tasks.graph.gates import Graph
from solvers.tasks.graph.parser import Parsed, name_latex
from solvers.tasks.graph.problem import GraphAnswer, GraphProblem, GraphSolution
from solvers.tasks.graph.steps import Writer
from solvers.tasks.graph.symbolic import derivatives_latex

_DEFAULT_FORMAT = NumberFormat()


#: Skip the sympy cross-check above this many characters × variables (its cost grows with
#: both: ~10 ms for the sigmoid neuron, ~35 ms at the limit, ~90 ms for 245 chars × 24).
MAX_SYMBOLIC_WORK = 1000


def solve(
    problem: GraphProblem,
    fmt: NumberFormat = _DEFAULT_FORMAT,
    *,
    symbolic: bool = True,
    busy: bool = False,
) -> GraphSolution:
    """Forward and backward pass with every step, and (unless ``symbolic`` is false or the
    expression is large) the symbolic derivatives from sympy, cached per expression; when
    ``busy`` (the server had no time for them), only if cached, the step saying so
    otherwise. A problem with vectors or matrices gets a :class:`VectorSolution`
    (:mod:`.vector_solve`)."""
    if problem.is_vector:
        from solvers.tasks.graph.vector_solve import solve_vector

        return solve_vector(problem, fmt)  # type: ignore[return-value]
    parsed = problem.parsed
    graph = problem.graph
    writer = Writer(graph, fmt, problem.upstream)
    ev = problem.evaluation()
    output = ev.values[-1]
    gradients = {name: ev.grads[i] for i, name in enumerate(graph.variables)}
    read = step(
        kind="graph.read",
        title=N_("How the expression was read"),
        text=NP_("Read as {expression}: {count} gate.", "Read as {expression}: {count} gates."),
        params={"expression": parsed.canonical, "count": writer.layout.gate_count},
        formulas=[f"f = {parsed.latex}"]
        + [f"{name_latex(n)} = {fmt.tex(v)}" for n, v in problem.values.items()],
        values=dict(problem.values),
    )
    top = writer.top
    result = step(
        kind="graph.result",
        title=N_("Result"),
        formulas=[f"f {writer.eq_exact(output)}"]
        + [
            rf"\frac{{\partial {top}}}{{\partial {name_latex(n)}}} {writer.eq_exact(g)}"
            for n, g in gradients.items()
        ],
        values={N_("output"): output, **{f"∂/∂{n}": g for n, g in gradients.items()}},
    )
    steps = [read, *writer.forward(ev), *writer.backward(ev, problem.upstream), result]
    derivatives: dict[str, str] = {}
    if symbolic and gradients:
        found = None
        left_out = busy and not derivatives_latex.holds(parsed)
        if _symbolic_fits(parsed) and not left_out:
            found = derivatives_latex(parsed)
        if left_out:
            text = N_("The symbolic check is left out this time: the server is busy.")
        elif found is None:
            text = N_("The symbolic check is skipped for an expression this large.")
        else:
            derivatives = dict(found)
            text = N_(
                "The partial derivatives found symbolically (sympy); substituting the values "
                "gives the same gradients."
            )
        formulas = [
            rf"\frac{{\partial f}}{{\partial {name_latex(n)}}} = {tex}"
            for n, tex in derivatives.items()
        ]
        steps.append(
            step(
                kind="graph.symbolic", title=N_("Symbolic check"), text=text,
                formulas=formulas,
            )
        )  # fmt: skip
    return GraphSolution(
        answer=GraphAnswer(output=output, gradients=gradients),
        steps=steps,
        nodes=writer.nodes(ev),
        expression_read=parsed.canonical,
        expression_latex=parsed.latex,
        symbolic=derivatives,
    )


def _symbolic_fits(parsed: Parsed) -> bool:
    return len(parsed.canonical) * len(parsed.variables) <= MAX_SYMBOLIC_WORK


def symbolic_work(problem: GraphProblem) -> Callable[[], object] | None:
    """The sympy work :func:`solve` will do for ``problem`` (the derivatives of an expression
    not seen lately: 10–30 ms), as a call that leaves them cached; ``None`` when there is
    none (a vector problem, no variables, too large, or cached)."""
    if problem.is_vector:
        return None
    parsed = problem.parsed
    if not parsed.variables or not _symbolic_fits(parsed) or derivatives_latex.holds(parsed):
        return None
    return partial(derivatives_latex, parsed)


def solve_batch(problems: Sequence[GraphProblem], device: Any = None) -> list[GraphAnswer]:
    """The answers of many problems: one vectorized float64 torch pass per expression and
    gate mode, on ``device`` (default: :func:`solvers.core.resolve_device`); a vector
    problem's :class:`VectorAnswer` from its own pass."""
    import torch

    device = device if device is not None else resolve_device()
    groups: dict[Graph, list[int]] = {}
    answers: list[Any] = [None] * len(problems)
    for index, problem in enumerate(problems):
        if problem.is_vector:  # one numpy pass each
            answers[index] = solve(problem, symbolic=False).answer
        else:
            groups.setdefault(problem.graph, []).append(index)
    for graph, indices in groups.items():
        group = [problems[i] for i in indices]
        values = torch.tensor(
            [[p.values[name] for name in graph.variables] for p in group], dtype=F64, device=device
        ).reshape(len(group), len(graph.variables))
        upstream = torch.tensor([p.upstream for p in group], dtype=F64, device=device)
        result = passes(graph, values, upstream)
        check(graph, result)
        outputs = result.output().tolist()
        grads = result.gradients(graph).tolist()
        for k, i in enumerate(indices):
            answers[i] = GraphAnswer(
                output=outputs[k], gradients=dict(zip(graph.variables, grads[k], strict=True))
            )
    return answers  # type: ignore[return-value]


QUICK_GATES = 60
"""The most gates of a graph solved where the server stands (:func:`quick`)."""


def quick(problem: GraphProblem) -> bool:
    """Whether the problem can be solved without a worker thread
    (:attr:`solvers.core.Task.quick`): a scalar graph of at most :data:`QUICK_GATES` gates
    whose expression was solved before (its symbolic derivatives are kept; a new
    expression's cost sympy more than a millisecond)."""
    return (
        not problem.is_vector
        and len(problem.graph.gates) <= QUICK_GATES
        and derivatives_latex.holds(problem.parsed)
    )


OWN_READS = {"graph.forward": ("nodes",), "graph.backward": ("nodes", "output")}
"""The forward steps take the student's node values, the backward steps also their f."""


def own_steps(problem: GraphProblem, given: dict[str, Any], fmt: NumberFormat) -> OwnSteps:
    """Both passes written with the student's own node values and f (error carried
    forward): a gate's inputs are the student's values where they gave them, and each
    chain rule takes the local gradient at those values and the upstream gradient that
    flows back through them. A vector graph carries nothing forward."""
    if problem.is_vector:
        return OwnSteps({}, [])
    graph = problem.graph
    nodes = given.get("nodes")
    mine = [math.nan] * len(graph.gates) if nodes is None else list(nodes)
    if given.get("output") is not None:
        mine[-1] = given["output"]
    inner = any(not math.isnan(x) for x in mine[:-1])
    ev = None
    if inner or not math.isnan(mine[-1]):
        ev = evaluate_given(graph, problem.values, mine, problem.upstream)
    if ev is None:
        return OwnSteps(OWN_READS, [])
    writer = Writer(graph, fmt, problem.upstream)
    forward = writer.forward(ev) if inner else []
    return OwnSteps(OWN_READS, [*forward, *writer.backward(ev, problem.upstream)])
