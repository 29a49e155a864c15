"""Attacks and malformed expressions that the graph parser must reject (type ``expression``).

Shared by the solver tests and the HTTP tests (each must answer 422, quickly, executing
nothing).
"""

HOSTILE_EXPRESSIONS: list[str] = [
    # code injection
    "__import__('os')",
    "__import__('os').system('touch /tmp/stepgrad-pwned')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "os.system('ls')",
    "x.real",
    "lambda x: x",
    "(lambda: 1)()",
    "[x for x in range(10)]",
    "{x: 1}",
    "{'a'}",
    "x if x else y",
    "exec('1')",
    "eval('1+1')",
    "open('/etc/passwd')",
    "getattr(x, 'y')",
    "f'{x}'",
    "'{0.__class__}'.format(x)",
    "%s % x",
    "x; import os",
    "x = 1",
    "x == 1",
    "x @@ y",  # (x @ y is a matrix product; with scalars, a shape error: test_vector.py)
    "not x",
    "x and y",
    "`ls`",
    "$(ls)",
    "x # comment",
    "'x'",
    '"x"',
    "x\\y",
    "x\x00",
    "\x00",
    # resource exhaustion
    "9**9**9**9",
    "2^99",
    "x^1e300",
    "x^100000",
    "1e308*x",
    "1" * 400,
    "123456789*x",
    "(" * 10_000 + "x" + ")" * 10_000,
    "(" * 60 + "x" + ")" * 60,
    "-" * 80 + "x",
    "x" * 400,
    "x+" * 300 + "x",
    "x+" * 240 + "x",  # 240 operations, under the length limit
    "x" * 1_000_000,
    "exp(exp(exp(exp(exp(exp(9))))))",
    # unicode tricks
    "ｘ＋ｙ",  # fullwidth letters
    "x\u200by",  # zero-width space
    "x\u202ey",  # right-to-left override
    "ⅹ",  # roman numeral ten
    "x²",
    "٣*x",  # Arabic-Indic digit
    "𝑥+1",  # mathematical italic x
    # malformed
    "",
    "   ",
    "(",
    ")",
    "(x+1",
    "x+1)",
    "()",
    "1 +",
    "* x",
    "x / / y",
    "x ^",
    "max(x)",
    "max(x, y, z)",
    "exp()",
    "exp(x, y)",
    "exp x",
    "open(x)",
    "sin(x)",
    "x^y",
    "x, y",
    "1.2.3",
    "x 2",
    "1/0",
    "log(0)",
    "sqrt(-1)",
    "x_",
    "w_x",
]
