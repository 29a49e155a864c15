"""The loss task's solver: the lecture's examples, hand-checked cases and bad input."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from solvers.core import NumberFormat
from solvers.tasks.loss import TASK, LossProblem, LossSolution, example, solve, solve_batch
from solvers.tasks.loss.solve import DETAIL_EXAMPLES

CAT = [[3.2], [5.1], [-1.7]]  # image 1 of the lecture: cat, car, frog scores in one column


class _Approx:
    """Equal to numbers or nested lists of numbers within ``tol`` (relative and absolute)."""

    def __init__(self, expected: object, tol: float = 1e-12) -> None:
        self.expected, self.tol = expected, tol

    def __eq__(self, actual: object) -> bool:
        return _close(actual, self.expected, self.tol)

    def __repr__(self) -> str:
        return f"approx({self.expected!r})"


def approx(expected: object, tol: float = 1e-12) -> _Approx:
    """Like pytest.approx, for nested lists and dicts too."""
    return _Approx(expected, tol)


def _close(a: object, b: object, tol: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    return a == b


def step(solution: LossSolution, kind: str, index: int = 0):
    return [s for s in solution.steps if s.kind == kind][index]


def test_lecture_svm_example() -> None:
    solution = solve(example())
    answer = solution.answer
    assert answer.per_example == approx([2.9, 0.0, 12.9])
    assert answer.data_loss == approx(79 / 15)
    assert round(answer.loss, 2) == 5.27
    assert answer.reg_loss == 0
    assert answer.probabilities is None
    # margins in the input layout: rows are classes, columns are images
    assert answer.margins == approx([[0, 0, 6.3], [2.9, 0, 6.6], [0, 0, 0]])
    # dL/ds: +1/N at every positive margin, −count/N at the correct class
    assert answer.grad_scores == approx([[-1 / 3, 0, 1 / 3], [1 / 3, 0, 1 / 3], [0, 0, -2 / 3]])
    kinds = [s.kind for s in solution.steps]
    assert kinds == ["loss.formula", *["svm.example"] * 3, "loss.reduce", "loss.grad"]


def test_lecture_svm_steps_substitute_the_numbers() -> None:
    solution = solve(example())
    first = step(solution, "svm.example")
    assert first.params == {"i": 1, "label": 0, "name": "cat", "positive": 1, "others": 2}
    assert first.title.format(**first.params) == "Example 1: correct class cat"
    assert first.formulas == [
        r"L_{1} = \max(0,\ 5.1 - 3.2 + 1) + \max(0,\ -1.7 - 3.2 + 1)",
        r"= \max(0,\ 2.9) + \max(0,\ -3.9)",
        "= 2.9 + 0 = 2.9",
    ]
    third = step(solution, "svm.example", 2)
    assert r"2.2 - (-3.1) + 1" in third.formulas[0]  # a substituted negative in parentheses
    assert third.formulas[-1] == "= 6.3 + 6.6 = 12.9"
    reduce = step(solution, "loss.reduce")
    assert reduce.formulas == [r"L = \frac{1}{3}(2.9 + 0 + 12.9) = \tfrac{79}{15} \approx 5.2667"]
    # with decimal commas, a semicolon separates max's arguments: max(0; 5,1 − 3,2 + 1)
    russian = step(solve(example(), NumberFormat(decimal_comma=True)), "svm.example")
    assert russian.formulas[1] == r"= \max(0;\ 2{,}9) + \max(0;\ -3{,}9)"
    assert reduce.values["data_loss"] == approx(79 / 15)
    grad = step(solution, "loss.grad")
    assert grad.values["grad_scores"] == solution.answer.grad_scores
    assert r"\frac{1}{3}" in grad.formulas[0]


def test_solution_serializes_to_json() -> None:
    data = solve(example()).model_dump(mode="json")
    assert data["task"] == "loss"
    assert set(data["answer"]) >= {"per_example", "data_loss", "reg_loss", "loss", "grad_scores"}
    assert all({"kind", "title", "formulas", "values"} <= set(s) for s in data["steps"])


@pytest.mark.parametrize(("log_base", "expected"), [("e", 2.04), ("10", 0.89), ("2", 2.94)])
def test_lecture_softmax_cat(log_base: str, expected: float) -> None:
    problem = LossProblem(scores=CAT, labels=[0], loss="softmax", log_base=log_base)
    solution = solve(problem)
    answer = solution.answer
    p_cat = answer.probabilities[0][0]
    assert round(p_cat, 2) == 0.13
    ln_base = {"e": 1.0, "10": math.log(10), "2": math.log(2)}[log_base]
    assert answer.loss == approx(-math.log(p_cat) / ln_base)
    assert round(answer.loss, 2) == expected
    assert sum(row[0] for row in answer.probabilities) == approx(1.0)
    worked = step(solution, "softmax.example")
    assert worked.params["max"] == "5.1"
    assert worked.text.format(**worked.params).startswith("Subtract max s_j = 5.1")
    assert worked.formulas[0] == r"s_j - 5.1 = (-1.9, 0, -6.8)"
    assert r"\approx 0.13" in worked.formulas[3]
    log = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}[log_base]
    assert worked.formulas[4].endswith(rf"-{log} 0.13 \approx {NumberFormat().tex(answer.loss)}")


def test_softmax_gradient_is_probabilities_minus_onehot() -> None:
    answer = solve(LossProblem(scores=CAT, labels=[0], loss="softmax")).answer
    p = [row[0] for row in answer.probabilities]
    assert answer.grad_scores == approx([[p[0] - 1], [p[1]], [p[2]]])
    base10 = solve(LossProblem(scores=CAT, labels=[0], loss="softmax", log_base="10")).answer
    assert base10.grad_scores == approx([[g[0] / math.log(10)] for g in answer.grad_scores])


def test_softmax_scores_in_the_hundreds_and_thousands_do_not_overflow() -> None:
    for shift in (100.0, 1000.0, -1000.0):
        shifted = [[v + shift for v in row] for row in CAT]
        problem = LossProblem(scores=shifted, labels=[0], loss="softmax")
        answer = solve(problem).answer
        assert answer.loss == pytest.approx(2.0404, abs=1e-4)
        assert all(math.isfinite(g[0]) for g in answer.grad_scores)


def test_softmax_underflowing_probability_keeps_a_finite_loss() -> None:
    problem = LossProblem(scores=[[0.0, -2000.0]], labels=[1], examples="rows", loss="softmax")
    solution = solve(problem)
    assert solution.answer.probabilities[0][1] == 0.0
    assert solution.answer.loss == approx(2000.0)
    assert solution.answer.grad_scores == approx([[1.0, -1.0]])
    last = step(solution, "softmax.example").formulas[-1]
    assert r"\ln 1 - (-2000)" in last  # −log p written as log-sum-exp


def test_svm_margin_other_than_one() -> None:
    problem = example().model_copy(update={"margin": 2.5})
    solution = solve(problem)
    # image 1: max(0, 5.1 − 3.2 + 2.5) + max(0, −1.7 − 3.2 + 2.5) = 4.4 + 0
    # image 2: max(0, 1.3 − 4.9 + 2.5) + max(0, 2 − 4.9 + 2.5) = 0 + 0
    # image 3: max(0, 2.2 + 3.1 + 2.5) + max(0, 2.5 + 3.1 + 2.5) = 7.8 + 8.1
    assert solution.answer.per_example == approx([4.4, 0.0, 15.9])
    assert solution.answer.loss == approx(20.3 / 3)
    assert step(solution, "svm.example").formulas[0].endswith(r"-1.7 - 3.2 + 2.5)")
    assert "2.5" in step(solution, "loss.formula").formulas[0]


def test_svm_margin_zero_counts_only_strictly_positive_margins() -> None:
    problem = LossProblem(scores=[[1.0, 1.0, 0.0]], labels=[0], examples="rows", margin=0)
    answer = solve(problem).answer
    assert answer.per_example == [0.0]
    assert answer.grad_scores == [[0.0, 0.0, 0.0]]


@pytest.mark.parametrize(("convention", "factor"), [("l2", 1.0), ("half_l2", 0.5)])
def test_regularization(convention: str, factor: float) -> None:
    weights = [[0.2, -0.5], [0.1, 2.0]]  # ΣW² = 0.04 + 0.25 + 0.01 + 4 = 4.3
    problem = example().model_copy(
        update={"reg": 0.1, "weights": weights, "reg_convention": convention}
    )
    solution = solve(problem)
    answer = solution.answer
    assert answer.reg_loss == approx(factor * 0.1 * 4.3)
    assert answer.loss == approx(79 / 15 + factor * 0.43)
    assert answer.grad_scores == solve(example()).answer.grad_scores  # R(W) ignores the scores
    reg = step(solution, "loss.reg")
    assert reg.formulas[0] == r"R(W) = \sum_{k,l} W_{k,l}^2 = 0.2^2 + (-0.5)^2 + 0.1^2 + 2^2 = 4.3"
    assert reg.formulas[1].endswith("= 0.43" if convention == "l2" else "= 0.215")
    assert reg.params == {"reg": 0.1, "convention": convention}
    total = step(solution, "loss.total")
    assert total.values["loss"] == answer.loss
    assert [s.kind for s in solution.steps][-3:] == ["loss.reg", "loss.total", "loss.grad"]


def test_weights_without_reg_give_zero_regularization() -> None:
    answer = solve(example().model_copy(update={"weights": [[1.0, 2.0]]})).answer
    assert answer.reg_loss == 0.0
    assert answer.loss == approx(79 / 15)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_rows_layout_is_columns_transposed(loss: str) -> None:
    columns = example().model_copy(update={"loss": loss})
    transposed = [list(r) for r in zip(*columns.scores, strict=True)]
    rows = columns.model_copy(update={"scores": transposed, "examples": "rows"})
    a, b = solve(columns).answer, solve(rows).answer
    assert a.per_example == b.per_example
    assert a.loss == b.loss
    assert a.grad_scores == [list(r) for r in zip(*b.grad_scores, strict=True)]
    extra_a = a.margins if loss == "svm" else a.probabilities
    extra_b = b.margins if loss == "svm" else b.probabilities
    assert extra_a == [list(r) for r in zip(*extra_b, strict=True)]


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_sum_reduction(loss: str) -> None:
    mean = solve(example().model_copy(update={"loss": loss})).answer
    solution = solve(example().model_copy(update={"loss": loss, "reduction": "sum"}))
    total = solution.answer
    assert total.per_example == mean.per_example
    assert total.data_loss == approx(3 * mean.data_loss)
    assert total.grad_scores == approx([[3 * g for g in row] for row in mean.grad_scores])
    reduce = step(solution, "loss.reduce")
    assert reduce.title == "Sum over the examples"
    assert r"\frac{1}" not in step(solution, "loss.grad").formulas[0]
    if loss == "svm":
        assert reduce.formulas == ["L = 2.9 + 0 + 12.9 = 15.8"]


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_one_class_has_zero_loss(loss: str) -> None:
    problem = LossProblem(scores=[[3.0, -1.0]], labels=[0, 0], loss=loss)  # 1 class, 2 images
    answer = solve(problem).answer
    assert answer.per_example == [0.0, 0.0]
    assert answer.loss == 0.0
    assert answer.grad_scores == [[0.0, 0.0]]
    assert "-0.0" not in solve(problem).model_dump_json()


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_one_example(loss: str) -> None:
    answer = solve(LossProblem(scores=CAT, labels=[1], loss=loss)).answer
    assert len(answer.per_example) == 1
    assert answer.data_loss == answer.per_example[0]


def test_large_problems_summarize_the_steps_but_answer_everything() -> None:
    n, c = 30, 10
    scores = [[math.sin(i * c + j) * 3 for j in range(c)] for i in range(n)]
    problem = LossProblem(scores=scores, labels=[i % c for i in range(n)], examples="rows")
    solution = solve(problem)
    assert len(solution.answer.per_example) == n
    assert len([s for s in solution.steps if s.kind == "svm.example"]) == DETAIL_EXAMPLES
    summary = step(solution, "loss.summary")
    assert summary.params["more"] == n - DETAIL_EXAMPLES
    assert r"\sum_{i=1}^{30} L_i" in step(solution, "loss.reduce").formulas[0]


def test_many_classes_use_sigma_notation() -> None:
    scores = [[float(j % 7) for j in range(20)]]
    for loss in ("svm", "softmax"):
        problem = LossProblem(scores=scores, labels=[3], examples="rows", loss=loss)
        worked = solve(problem).steps[1]
        assert all(len(f) < 200 for f in worked.formulas)


def test_text_input_and_class_names() -> None:
    problem = LossProblem(
        scores="3,2 1,3 2,2\n5,1 4,9 2,5\n−1,7 2,0 −3,1",
        labels="0, 1, 2",
        class_names="cat, car, frog",
        margin="1,0",
    )
    assert problem == example()
    assert LossProblem(scores="1 2; 3 4", labels="0 1", class_names="a b").class_names == [
        "a",
        "b",
    ]
    assert LossProblem(scores="1 2; 3 4", labels=[0, 1], class_names="", weights="").weights is None


def test_example_and_task_record() -> None:
    assert TASK.id == "loss"
    assert TASK.example() == example()
    assert isinstance(TASK.solve(TASK.example()), LossSolution)
    schema = LossProblem.model_json_schema()
    assert all(field.get("description") for field in schema["properties"].values())


def test_solve_batch_matches_solve_for_mixed_problems() -> None:
    problems = [
        example(),
        example().model_copy(update={"loss": "softmax", "log_base": "2"}),
        LossProblem(scores=CAT, labels=[2], loss="softmax", reduction="sum"),
        example().model_copy(update={"margin": 0.5, "reg": 2.0, "weights": [[1.0, -1.0]]}),
        LossProblem(scores=[[1.0, 2.0], [3.0, 4.0]], labels=[1, 0], examples="rows"),
        example().model_copy(update={"reduction": "sum"}),
    ]
    batch = solve_batch(problems, "cpu")
    for problem, answer in zip(problems, batch, strict=True):
        expected = solve(problem).answer
        assert answer.model_dump() == approx(expected.model_dump(), tol=1e-9)
    assert solve_batch([], "cpu") == []


GOOD = {"scores": [[3.2, 1.3], [5.1, 4.9]], "labels": [0, 1]}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"labels": [0, 1, 1]}, "", "the scores have 2 examples, labels given: 3"),
        ({"labels": [0]}, "", "labels given: 1"),
        ({"labels": [0, 2]}, "", "the label of example 2 is 2, but there are only 2 classes"),
        ({"labels": [-1, 0]}, "", "the label of example 1 is -1"),
        ({"labels": [0, 1.5]}, "labels", "the label of example 2 is 1.5"),
        ({"labels": "0 x"}, "labels", '"x" is not a number'),
        ({"margin": -1}, "margin", "greater than or equal to 0"),
        ({"margin": float("nan")}, "margin", "finite"),
        ({"reg": -0.1}, "reg", "greater than or equal to 0"),
        ({"scores": [[1.0, float("nan")], [2.0, 3.0]]}, "scores", "row 1, column 2"),
        ({"scores": "1 2; 3 nan"}, "scores", "row 2, column 2"),
        ({"scores": "1 2; 3"}, "scores", "row 2 has 1 number but"),
        ({"scores": [[1.0, 1e13], [2.0, 3.0]]}, "scores", "row 1, column 2: 1e+13 is too large"),
        ({"scores": ""}, "scores", "the matrix is empty"),
        ({"scores": [[0.0] * 3] * 101, "labels": [0, 1, 2]}, "scores", "101×3"),
        ({"loss": "hinge"}, "loss", "'svm' or 'softmax'"),
        ({"examples": "cols"}, "examples", "'columns' or 'rows'"),
        ({"log_base": "3"}, "log_base", "'e', '10' or '2'"),
        ({"reduction": "max"}, "reduction", "'mean' or 'sum'"),
        ({"reg_convention": "l1"}, "reg_convention", "'l2' or 'half_l2'"),
        ({"reg": 0.5}, "", "regularization λ = 0.5 needs the weights W"),
        ({"weights": [[1.0], [1.0, 2.0]]}, "weights", "row 2 has 2 numbers"),
        ({"class_names": ["cat"]}, "", "there are 2 classes, names given: 1"),
        ({"class_names": ["cat", "x" * 41]}, "class_names", "class name 2 is longer than 40"),
        ({"class_names": "cat,,car"}, "class_names", "class name 2 is empty"),
        ({"lambda": 1}, "lambda", "Extra inputs are not permitted"),
    ],
)
def test_bad_input_names_the_field(change: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        LossProblem(**{**GOOD, **change})
    errors = caught.value.errors()
    assert len(errors) == 1
    located = ".".join(str(p) for p in errors[0]["loc"] if not str(p).startswith("function-"))
    assert located == field
    assert words in errors[0]["msg"]
    if not field:  # cross-field checks say which field in their context
        assert errors[0]["ctx"]["field"] in {"labels", "class_names", "weights"}
