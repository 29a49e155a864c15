"""A safe parser for the expressions students type: text → :class:`Expr` tree.

Nothing here evaluates user text: a hand-written tokenizer feeds a depth-limited
recursive-descent parser, and every rejection is a :class:`PydanticCustomError` of type
``"expression"`` whose context carries the 1-based ``position`` of the offending character.

Reading rules (shown back to the user as :attr:`Parsed.canonical`):

* **Names** are one letter (ASCII or lowercase Greek) followed by optional digits, with an
  optional underscore before the digits: ``x``, ``q``, ``w0``, ``w_0``, ``α1``. ``w_0`` and
  ``w0`` are the same variable (written ``w0``). Hence **implicit multiplication** after a
  name's digits: ``w0x0`` is ``w0·x0``; also ``2x`` is ``2·x``, and ``)(``, ``2(``, ``x(``
  multiply. A number never multiplies implicitly from the right (``x 2`` and ``(x)2`` are
  errors). Implicit products bind like ``*``: ``1/2x`` is ``(1/2)·x``.
* Two or more letters in a row must be a known function (``exp``, ``log``, ``ln``,
  ``sqrt``, ``sigmoid``, ``tanh``, ``relu``, ``abs``, ``max``, ``min``; any letter case,
  always with parentheses) or ``pi``: ``open(x)`` is an unknown function, and ``xy`` is an
  unknown name (write ``x*y``), which also turns away words such as ``lambda`` or ``if``.
* ``e`` alone is Euler's number (``e^x`` is ``exp(x)``); ``e1`` or ``e_1`` are variables.
  ``pi`` and ``π`` are π. Scientific notation (``1e5``, ``2E-3``) is rejected: write ``10^5``.
* ``^`` and ``**`` are powers, right-associative, binding tighter than unary minus:
  ``-x^2`` is ``-(x^2)``, ``2^-x`` is ``2^(-x)``. The exponent must be a constant with
  ``|k| ≤ MAX_EXPONENT`` unless the base is ``e``.
* **Decimal comma**: a comma between two digits is a decimal mark (``0,5``), except directly
  inside the parentheses of ``max``/``min``, where commas separate the arguments
  (``max(0,5)`` is max(0, 5)) unless the arguments are separated by semicolons
  (``max(0,5; x)`` is max(0.5, x)). ``;`` always separates arguments.
* ``·``, ``⋅``, ``×``, ``∗`` multiply, ``÷`` divides, ``−`` and ``–`` are minus.
* Vectors and matrices (:mod:`.vector`): ``@`` is the matrix product (``*`` and a product
  without sign too, where the shapes decide); ``W^T``, ``W'`` and ``transpose(W)``
  transpose; ``||q||^2`` is ``norm2(q)``; ``sum``, ``softmax_ce(s, y)``, ``svm(s, y)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch
from pydantic_core import PydanticCustomError

from solvers.core import N_, NP_
from solvers.tasks.graph.rules import FUNCTIONS as GATE_FUNCTIONS

MAX_LENGTH = 500
MAX_DEPTH = 50
MAX_OPERATIONS = 200
MAX_CONSTANT = 1e6
MAX_EXPONENT = 10
CACHE_CHARACTERS = 20_000
"""What each per-expression cache (parse, graphs, layouts, derivatives) keeps across
requests, in characters of the expressions: a class's one short expression sent again and
again stays, and so do 500 of 40 characters, but only 40 of the longest (their entries
weigh about 0.3 kB a character in all: the caches stay within about 8 MB)."""

_ALIASES = {"ln": "log"}
FUNCTIONS: dict[str, int] = {
    **{name: rule.arity for name, rule in GATE_FUNCTIONS.items()},
    **{alias: GATE_FUNCTIONS[name].arity for alias, name in _ALIASES.items()},
}
"""The functions one can type and their number of arguments (from the gates' rules)."""
_LIST_FUNCTIONS = {name for name, arity in FUNCTIONS.items() if arity > 1}

GREEK: dict[str, str] = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "ο": "o", "ρ": r"\rho",
    "τ": r"\tau", "υ": r"\upsilon", "φ": r"\varphi", "χ": r"\chi", "ψ": r"\psi",
    "ω": r"\omega",
}  # fmt: skip
_OPERATORS = {
    "+": "+", "-": "-", "−": "-", "–": "-", "*": "*", "·": "*", "⋅": "*", "×": "*",
    "∗": "*", "/": "/", "÷": "/", "^": "^", "(": "(", ")": ")", ",": ",", ";": ";",
    "@": "@", "'": "'", "′": "'",
}  # fmt: skip
_SPACES = frozenset(" \t\n\r\u00a0\u2009\u202f")
_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_VECTOR_FUNCTIONS = frozenset(
    name for name, rule in GATE_FUNCTIONS.items() if rule.shape is not None
)
"""Functions of whole vectors and matrices: never folded as constants."""


def expression_error(template: str, **context: Any) -> PydanticCustomError:
    """The error every rejection of expression text raises (type ``"expression"``)."""
    return PydanticCustomError("expression", template, context)


@dataclass(frozen=True)
class Expr:
    """One node of the parsed tree.

    ``kind`` is ``num``, ``var``, ``neg``, ``add``, ``sub``, ``mul``, ``div``, ``pow`` or
    ``call`` (``name`` is then the function: ``exp``, ``log``, ``sqrt``, ``sigmoid``,
    ``tanh``, ``relu``, ``abs``, ``max``, ``min``). ``const`` is the value of a subtree
    without variables (``None`` otherwise); ``pos`` is the 1-based source position.
    """

    kind: str
    args: tuple[Expr, ...] = ()
    name: str = ""
    value: float = 0.0
    const: float | None = field(default=None, compare=False)
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Parsed:
    """A parsed expression: the tree, how it was read (text and LaTeX) and its variables.

    The canonical text reads back as the same tree, so parses compare and hash by it.
    """

    tree: Expr = field(compare=False)
    canonical: str
    latex: str = field(compare=False)
    variables: tuple[str, ...] = field(compare=False)


@dataclass(frozen=True)
class _Token:
    kind: str  # num, name, const, func, op, end
    text: str
    pos: int
    value: float = 0.0


def _char_repr(char: str) -> str:
    return char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


def _unexpected(char: str, pos: int) -> PydanticCustomError:
    return expression_error(
        N_('unexpected "{char}" at position {position}'), char=_char_repr(char), position=pos
    )


def _semicolon_groups(text: str) -> frozenset[int]:
    """Indices of the ``(`` whose own argument list contains a ``;``."""
    stack: list[int] = []
    found: set[int] = set()
    for i, char in enumerate(text):
        if char == "(":
            stack.append(i)
        elif char == ")" and stack:
            stack.pop()
        elif char == ";" and stack:
            found.add(stack[-1])
    return frozenset(found)


def _name_tail(text: str, i: int) -> int:
    """End of the optional ``digits`` or ``_digits`` after a name's letter at ``i - 1``."""
    n = len(text)
    j = i
    if j < n and text[j] == "_" and j + 1 < n and text[j + 1] in _DIGITS:
        j += 1
    if j < n and text[j] in _DIGITS:
        while j < n and text[j] in _DIGITS:
            j += 1
        return j
    return i


def _next_nonspace(text: str, i: int) -> str:
    while i < len(text) and text[i] in _SPACES:
        i += 1
    return text[i] if i < len(text) else ""


def _letters(text: str, start: int, tokens: list[_Token]) -> int:
    """Tokenize a run of letters at ``start``; return the index after it."""
    n = len(text)
    end = start
    while end < n and text[end] in _ASCII_LETTERS:
        end += 1
    run = text[start:end]
    pos = start + 1
    word = _WORD.match(text, start)
    if word and word.end() > end and word.group(0).lower() in FUNCTIONS:  # norm2, softmax_ce
        run, end = word.group(0), word.end()
    lower = run.lower()
    if lower in FUNCTIONS:
        if _next_nonspace(text, end) != "(":
            raise expression_error(
                N_('"{name}" at position {position} needs parentheses: {name}(…)'),
                name=run,
                position=pos,
            )
        tokens.append(_Token("func", _ALIASES.get(lower, lower), pos))
        return end
    if lower == "pi" and _name_tail(text, end) == end:
        tokens.append(_Token("const", "pi", pos, math.pi))
        return end
    if len(run) > 1:
        if _next_nonspace(text, end) == "(":
            raise expression_error(
                N_('unknown function "{name}" at position {position}'), name=run, position=pos
            )
        for fn in FUNCTIONS:
            if lower.startswith(fn):
                raise expression_error(
                    N_('"{name}" at position {position} needs parentheses: {name}(…)'),
                    name=run[: len(fn)],
                    position=pos,
                )
        raise expression_error(
            N_(
                'unknown name "{name}" at position {position}: a name is one letter with '
                "optional digits (x, w0, w_1); write x*y for a product"
            ),
            name=run[:20],
            position=pos,
        )
    tail_end = _name_tail(text, end)
    tail = text[end:tail_end].replace("_", "")
    if run == "e" and not tail:
        tokens.append(_Token("const", "e", pos, math.e))
    else:
        tokens.append(_Token("name", run + tail, pos))
    return tail_end


def _number(text: str, i: int, decimal_comma: bool) -> tuple[_Token, int]:
    n = len(text)
    j = i
    while j < n and text[j] in _DIGITS:
        j += 1
    if j < n and (text[j] == "." or (text[j] == "," and decimal_comma)):
        if j + 1 < n and text[j + 1] in _DIGITS:
            j += 1
            while j < n and text[j] in _DIGITS:
                j += 1
        elif text[j] == "." and j > i:
            j += 1  # "5." is 5
    if j + 1 < n and text[j] in "eE":
        after = text[j + 2] if text[j + 1] in "+-" and j + 2 < n else text[j + 1]
        if after in _DIGITS:
            raise expression_error(
                N_("scientific notation at position {position} is not supported: write 10^k"),
                position=j + 1,
            )
    literal = text[i:j].replace(",", ".")
    if literal == ".":
        raise _unexpected(".", i + 1)
    value = float(literal)
    if value > MAX_CONSTANT:
        raise expression_error(
            N_("the number at position {position} is too large: at most {limit}"),
            position=i + 1,
            limit=f"{MAX_CONSTANT:g}",
        )
    return _Token("num", literal, i + 1, value), j


def tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens (the last one has kind ``end``)."""
    semicolon_groups = _semicolon_groups(text)
    tokens: list[_Token] = []
    # For each open parenthesis: does a comma between digits inside it read as a decimal mark?
    decimal_stack: list[bool] = [True]
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char in _SPACES:
            i += 1
        elif char in _DIGITS or (char == "." and i + 1 < n and text[i + 1] in _DIGITS):
            token, i = _number(text, i, decimal_stack[-1])
            tokens.append(token)
        elif char in _ASCII_LETTERS:
            i = _letters(text, i, tokens)
        elif char in GREEK:
            end = _name_tail(text, i + 1)
            tokens.append(_Token("name", char + text[i + 1 : end].replace("_", ""), i + 1))
            i = end
        elif char == "σ":
            if _next_nonspace(text, i + 1) != "(":
                raise expression_error(
                    N_('"{name}" at position {position} needs parentheses: {name}(…)'),
                    name=char, position=i + 1,
                )  # fmt: skip
            tokens.append(_Token("func", "sigmoid", i + 1))
            i += 1
        elif char == "π":
            tokens.append(_Token("const", "pi", i + 1, math.pi))
            i += 1
        elif char == "*" and text.startswith("**", i):
            tokens.append(_Token("op", "^", i + 1))
            i += 2
        elif char == "|" and text.startswith("||", i):
            tokens.append(_Token("op", "||", i + 1))
            i += 2
        elif char in _OPERATORS:
            op = _OPERATORS[char]
            if op == "(":
                if len(decimal_stack) > MAX_DEPTH:
                    raise _too_deep(i + 1)
                in_list = (
                    bool(tokens)
                    and tokens[-1].kind == "func"
                    and (tokens[-1].text in _LIST_FUNCTIONS)
                )
                decimal_stack.append(not in_list or i in semicolon_groups)
            elif op == ")" and len(decimal_stack) > 1:
                decimal_stack.pop()
            tokens.append(_Token("op", op, i + 1))
            i += 1
        else:
            raise _unexpected(char, i + 1)
    tokens.append(_Token("end", "", n + 1))
    return tokens


def _too_deep(pos: int) -> PydanticCustomError:
    return expression_error(
        N_("the expression is nested too deeply at position {position}: at most {limit} levels"),
        position=pos,
        limit=MAX_DEPTH,
    )


def _const_value(kind: str, name: str, values: list[float], pos: int) -> float:
    """Evaluate an operation on constants, rejecting domain errors and overflow."""
    try:
        result = _apply(kind, name, values, pos)
    except (OverflowError, ZeroDivisionError, ValueError):
        result = math.nan
    if not math.isfinite(result):
        raise expression_error(
            N_("the constant part at position {position} has no finite value"), position=pos
        )
    return result


def _apply(kind: str, name: str, v: list[float], pos: int) -> float:
    if kind == "neg":
        return -v[0]
    if kind == "add":
        return v[0] + v[1]
    if kind == "sub":
        return v[0] - v[1]
    if kind == "mul":
        return v[0] * v[1]
    if kind == "div":
        return v[0] / v[1]
    if kind == "pow":
        return math.pow(v[0], v[1])
    rule = GATE_FUNCTIONS[name]  # a function of constants: its gate's forward
    return float(rule.forward([torch.tensor(x, dtype=torch.float64) for x in v], 0.0))


class _Parser:
    """Recursive descent over tokens; ``depth`` bounds the recursion."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.operations = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_deep(pos)

    def node(self, kind: str, args: tuple[Expr, ...], pos: int, name: str = "") -> Expr:
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            raise expression_error(
                N_("the expression is too long at position {position}: at most {limit} operations"),
                position=pos,
                limit=MAX_OPERATIONS,
            )
        const = None
        if (
            kind != "matmul"
            and name not in _VECTOR_FUNCTIONS
            and all(a.const is not None for a in args)
        ):
            const = _const_value(kind, name, [a.const for a in args], pos)  # type: ignore[misc]
        return Expr(kind, args, name=name, const=const, pos=pos)

    def unexpected(self) -> PydanticCustomError:
        token = self.tok
        if token.kind == "end":
            return expression_error(
                N_("the expression ends too early at position {position}"), position=token.pos
            )
        if token.kind == "num":
            return expression_error(
                N_('missing operator before "{char}" at position {position}'),
                char=token.text,
                position=token.pos,
            )
        return _unexpected(token.text or "?", token.pos)

    def parse(self) -> Expr:
        if self.tok.kind == "end":
            raise expression_error(N_("the expression is empty"), position=1)
        tree = self.expr()
        if self.tok.kind != "end":
            if self.is_op(")"):
                raise expression_error(
                    N_('unmatched ")" at position {position}'), position=self.tok.pos
                )
            raise self.unexpected()
        return tree

    def expr(self) -> Expr:
        left = self.term()
        while self.is_op("+", "-"):
            op = self.advance()
            right = self.term()
            left = self.node("add" if op.text == "+" else "sub", (left, right), op.pos)
        return left

    def term(self) -> Expr:
        left = self.unary()
        while True:
            if self.is_op("*", "/", "@"):
                op = self.advance()
                right = self.unary()
                kind = {"*": "mul", "/": "div", "@": "matmul"}[op.text]
                left = self.node(kind, (left, right), op.pos)
            elif self.tok.kind in ("name", "const", "func") or self.is_op("("):
                pos = self.tok.pos
                left = self.node("mul", (left, self.power()), pos)
            else:
                return left

    def unary(self) -> Expr:
        if self.is_op("-", "+"):
            op = self.advance()
            self.enter(op.pos)
            operand = self.unary()
            self.depth -= 1
            if op.text == "+":
                return operand
            if operand.kind == "num":
                return Expr("num", value=-operand.value, const=-operand.value, pos=op.pos)
            return self.node("neg", (operand,), op.pos)
        return self.power()

    def transposed(self, base: Expr) -> Expr:
        """``base'`` and ``base^T``, any number of times."""
        while True:
            if self.is_op("'"):
                pos = self.advance().pos
            elif (
                self.is_op("^")
                and self.tokens[self.i + 1].kind == "name"
                and self.tokens[self.i + 1].text == "T"
            ):
                pos = self.advance().pos
                self.advance()
            else:
                return base
            base = self.node("call", (base,), pos, name="transpose")

    def power(self) -> Expr:
        base = self.transposed(self.primary())
        if not self.is_op("^"):
            return base
        op = self.advance()
        self.enter(op.pos)
        exponent = self.unary()
        self.depth -= 1
        if base.kind == "const" and base.name == "e":
            return self.node("call", (exponent,), op.pos, name="exp")
        if exponent.const is None:
            raise expression_error(
                N_(
                    "the exponent at position {position} must be a number; write exp(…) or e^… "
                    "for a variable exponent"
                ),
                position=op.pos,
            )
        if abs(exponent.const) > MAX_EXPONENT:
            raise expression_error(
                N_("the exponent at position {position} is too large: at most {limit}"),
                position=op.pos,
                limit=MAX_EXPONENT,
            )
        return self.node("pow", (base, exponent), op.pos)

    def primary(self) -> Expr:
        token = self.tok
        if token.kind == "num":
            self.advance()
            return Expr("num", value=token.value, const=token.value, pos=token.pos)
        if token.kind == "const":
            self.advance()
            return Expr("const", name=token.text, value=token.value, const=token.value,
                        pos=token.pos)  # fmt: skip
        if token.kind == "name":
            self.advance()
            return Expr("var", name=token.text, pos=token.pos)
        if token.kind == "func":
            return self.call()
        if self.is_op("||"):
            return self.norm()
        if self.is_op("("):
            self.advance()
            self.enter(token.pos)
            inner = self.expr()
            self.depth -= 1
            self.expect_close(token.pos)
            return inner
        raise self.unexpected()

    def norm(self) -> Expr:
        """``||q||^2``: the squared norm (``norm2(q)``); other powers of a norm are refused."""
        open_token = self.advance()
        self.enter(open_token.pos)
        inner = self.expr()
        self.depth -= 1
        if not self.is_op("||"):
            if self.tok.kind == "end":
                raise expression_error(
                    N_('the "||" at position {position} is never closed'),
                    position=open_token.pos,
                )
            raise self.unexpected()
        self.advance()
        if not (
            self.is_op("^")
            and self.tokens[self.i + 1].kind == "num"
            and self.tokens[self.i + 1].value == 2
        ):
            raise expression_error(
                N_("write the squared norm as ||…||^2 (position {position})"),
                position=open_token.pos,
            )
        self.i += 2
        return self.node("call", (inner,), open_token.pos, name="norm2")

    def expect_close(self, open_pos: int) -> None:
        if not self.is_op(")"):
            if self.tok.kind == "end":
                raise expression_error(
                    N_('the "(" at position {position} is never closed'), position=open_pos
                )
            raise self.unexpected()
        self.advance()

    def call(self) -> Expr:
        func = self.advance()
        open_token = self.advance()  # the tokenizer guarantees "("
        self.enter(open_token.pos)
        args = [self.expr()]
        while self.is_op(",", ";"):
            self.advance()
            args.append(self.expr())
        self.depth -= 1
        self.expect_close(open_token.pos)
        arity = FUNCTIONS[func.text]
        if len(args) != arity:
            raise expression_error(
                NP_(
                    "{name} at position {position} takes {expected} argument, not {got}",
                    "{name} at position {position} takes {expected} arguments, not {got}",
                    "expected",
                    arity,
                ),
                name=func.text,
                position=func.pos,
                expected=arity,
                got=len(args),
            )
        return self.node("call", tuple(args), func.pos, name=func.text)


# ---- printing: canonical text and LaTeX ------------------------------------------------

_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}
_ATOM = 5


def _prec(e: Expr) -> int:
    if e.kind == "num" and e.value < 0:
        return 3
    if e.kind == "call" and e.name == "transpose":
        return 4
    return _PREC.get(e.kind, _ATOM)


def number_text(value: float) -> str:
    """Shortest text of a float: ``2`` for 2.0, ``0.5``, ``-3``."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


@lru_cache(maxsize=4096)
def name_latex(name: str) -> str:
    """LaTeX of a variable name: ``w0`` → ``w_{0}``, ``α1`` → ``\\alpha_{1}``."""
    letter, digits = name[0], name[1:]
    head = GREEK.get(letter, letter)
    return f"{head}_{{{digits}}}" if digits else head


def _wrap(text: str, cond: bool, left: str = "(", right: str = ")") -> str:
    return f"{left}{text}{right}" if cond else text


def to_text(e: Expr) -> str:
    """Canonical text: explicit ``·`` for every product, ``^`` for powers, ``.`` decimals."""
    kind = e.kind
    if kind == "num":
        return number_text(e.value)
    if kind in ("var", "const"):
        return e.name
    if kind == "call" and e.name == "transpose":
        return _wrap(to_text(e.args[0]), _prec(e.args[0]) <= 4) + "^T"
    if kind == "call":
        return f"{e.name}({', '.join(to_text(a) for a in e.args)})"
    if kind == "neg":
        return "-" + _wrap(to_text(e.args[0]), _prec(e.args[0]) <= 3)
    a, b = e.args
    p = _PREC[kind]
    if kind == "pow":
        return f"{_wrap(to_text(a), _prec(a) <= p)}^{_wrap(to_text(b), _prec(b) < _ATOM)}"
    symbol = {"add": " + ", "sub": " - ", "mul": "·", "div": "/", "matmul": " @ "}[kind]
    return f"{_wrap(to_text(a), _prec(a) < p)}{symbol}{_wrap(to_text(b), _prec(b) <= p)}"


def to_latex(e: Expr) -> str:
    """LaTeX of the tree (``\\frac`` for division, ``e^{…}`` for exp)."""
    kind = e.kind
    if kind == "num":
        return number_text(e.value)
    if kind == "var":
        return name_latex(e.name)
    if kind == "const":
        return "e" if e.name == "e" else r"\pi"
    if kind == "call":
        inner = ", ".join(to_latex(a) for a in e.args)
        if e.name == "transpose":
            base = _wrap(inner, _prec(e.args[0]) <= 4, r"\left(", r"\right)")
            return f"{{{base}}}^{{\\top}}"
        return GATE_FUNCTIONS[e.name].tex_call(inner)  # type: ignore[misc]
    if kind == "neg":
        return "-" + _wrap(to_latex(e.args[0]), _prec(e.args[0]) <= 3, r"\left(", r"\right)")
    a, b = e.args
    if kind == "div":
        return rf"\frac{{{to_latex(a)}}}{{{to_latex(b)}}}"
    if kind == "pow":
        base = _wrap(to_latex(a), _prec(a) <= 4, r"\left(", r"\right)")
        return f"{base}^{{{to_latex(b)}}}"
    p = _PREC[kind]
    symbol = {"add": " + ", "sub": " - ", "mul": r" \cdot ", "matmul": r"\,"}[kind]
    left = _wrap(to_latex(a), _prec(a) < p, r"\left(", r"\right)")
    right = _wrap(to_latex(b), _prec(b) <= p, r"\left(", r"\right)")
    return f"{left}{symbol}{right}"


def _variables(e: Expr, seen: dict[str, None]) -> None:
    if e.kind == "var":
        seen.setdefault(e.name, None)
    for a in e.args:
        _variables(a, seen)


def characters(parsed: Parsed, *rest: object) -> int:
    """The weight of a cache entry keyed by a parse: its canonical text's length."""
    return len(parsed.canonical)


def parse(text: str) -> Parsed:
    """Parse ``text``; raise ``PydanticCustomError("expression", …)``."""
    if len(text) > MAX_LENGTH:
        raise expression_error(
            N_("the expression is too long: {length} characters, at most {limit}"),
            length=len(text),
            limit=MAX_LENGTH,
            position=MAX_LENGTH + 1,
        )
    tree = _Parser(tokenize(text)).parse()
    seen: dict[str, None] = {}
    _variables(tree, seen)
    return Parsed(tree, to_text(tree), to_latex(tree), tuple(seen))


def normalize_name(name: str) -> str:
    """The variable a key of ``values`` names (``w_0`` → ``w0``), or ``""`` if it names none."""
    stripped = name.strip()
    if not stripped or (stripped[0] not in _ASCII_LETTERS and stripped[0] not in GREEK):
        return ""
    if _name_tail(stripped, 1) != len(stripped):
        return ""
    return stripped[0] + stripped[1:].replace("_", "")
