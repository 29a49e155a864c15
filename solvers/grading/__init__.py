"""Grading, the engine every task's grader plugs into: "check my answer" with per-part
marks, named misconceptions and error carried forward, for one submission, a list, or a
million as tensors. :mod:`.core` holds the scoring rules and the default tolerance,
:mod:`.batch` grading by task id."""
