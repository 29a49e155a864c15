"""Error carried forward with the rounding band: a later part worked by hand from the
student's own wrong earlier part is consistent, as it is when worked exactly."""

from __future__ import annotations

from solvers.grading.batch import grade
from solvers.grading.core import Tolerance
from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.grading import GRADER

NEURON = GraphProblem(
    expression="1/(1+exp(-(w0*x0+w1*x1+w2)))",
    values={"w0": 2, "x0": 0, "w1": 3, "x1": -1, "w2": 1},
)


def _exp_node() -> str:
    graph = GRADER.batch([NEURON], "cpu").graph
    (index,) = [i for i, gate in enumerate(graph.gates) if gate.op == "exp"]
    return str(index)


def test_a_hand_rounded_consequence_of_a_wrong_node_is_carried_forward() -> None:
    """e² written 3.39 (exact 7.39), then by hand: 1 + 3.39 = 4.39, f = 1/4.39 = 0.23, the
    local gradient −1/4.39² = −0.0519 written −0.05, times 3.39 = −0.17, times −1: 0.17 at the
    sum, so ∂f/∂x₀ = 2·0.17 = 0.34 and ∂f/∂x₁ = 3·0.17 = 0.51. Worked exactly from 3.39 they
    are 0.352 and 0.528: beyond the tolerance, inside the carried answer's rounding band."""
    answer = {
        "output": 0.23,
        "nodes": {_exp_node(): 3.39},
        "gradients": {"w0": 0.0, "x0": 0.34, "w1": -0.17, "x1": 0.51, "w2": 0.17},
    }
    by_hand = {p.name: p for p in grade("graph", NEURON, answer).parts}
    exact = {
        p.name: p
        for p in grade("graph", NEURON, answer, Tolerance(intermediate_decimals=None)).parts
    }
    for name in ("gradients.x0", "gradients.x1"):
        assert by_hand[name].consistent and not by_hand[name].correct
        assert by_hand[name].score == 0.5 and by_hand[name].misconception is None
        assert not exact[name].consistent and exact[name].score == 0
    for name in ("output", "gradients.w1", "gradients.w2"):  # within the tolerance either way
        assert by_hand[name].consistent and exact[name].consistent
    assert by_hand["gradients.w0"].correct
    graded = grade("graph", NEURON, answer)
    assert (graded.score, graded.carried_forward_score) == (3.5, 2.5)


def test_a_far_off_later_part_is_not_carried_forward() -> None:
    """The band is the carried answer's own: 10 % beyond the hand-worked 0.51 stays wrong."""
    answer = {"nodes": {_exp_node(): 3.39}, "gradients": {"x1": 0.51 * 1.1}}
    (part,) = [p for p in grade("graph", NEURON, answer).parts if p.name == "gradients.x1"]
    assert not part.consistent and part.score == 0
