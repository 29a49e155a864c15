"""One folder per task. Each holds all of its task, in files named by role:

``problem.py`` (the problem and answer models), ``compute.py`` (the tensor implementation),
``solve.py`` (the worked solution's steps), ``variants.py`` (the spec and the generator),
``grading.py`` (the submission, the named mistakes, the answer's parts), ``pytorch.py`` (the
problem as PyTorch code) and ``__init__.py`` (the task's record, :class:`solvers.core.Task`).
"""
