"""Pure solvers for the quiz's problems: each task turns a Problem into an answer and steps."""
