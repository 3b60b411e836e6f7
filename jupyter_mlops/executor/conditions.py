"""Evaluate the condition strings kfp writes into `triggerPolicy.condition`.

kfp compiles `dsl.If/Elif/Else` into a small subset of CEL, for example
``!(int(inputs.parameter_values['pipelinechannel--a']) > 2) && inputs.parameter_values['f'] == 'yes'``.
This module parses exactly that subset (literals, ``inputs.parameter_values['name']``, the casts
``int``/``double``/``string``/``bool``, comparisons, ``!``, ``&&``, ``||`` and parentheses) without `eval`,
so a pipeline file cannot run code in the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import PipelineError

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\[|\]|\.|,)
    | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
    )""",
    re.VERBOSE,
)

_CASTS: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: int(float(v)) if isinstance(v, str) else int(v),
    "double": float,
    "string": lambda v: v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v),
    "bool": lambda v: v.lower() == "true" if isinstance(v, str) else bool(v),
}

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise PipelineError(f"cannot read the condition {text!r} at character {pos}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, values: Mapping[str, Any]) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.values = values

    def fail(self, what: str) -> PipelineError:
        return PipelineError(f"condition {self.text!r}: {what}")

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise self.fail("ends too early")
        tok = self.tokens[self.pos]
        if expected is not None and tok[1] != expected:
            raise self.fail(f"expected {expected!r}, found {tok[1]!r}")
        self.pos += 1
        return tok

    def parse(self) -> bool:
        value = self.or_expr()
        if self.pos != len(self.tokens):
            raise self.fail(f"unexpected {self.tokens[self.pos][1]!r}")
        return bool(value)

    def or_expr(self) -> Any:
        left = self.and_expr()
        while self.peek() == "||":
            self.take()
            right = self.and_expr()
            left = bool(left) or bool(right)
        return left

    def and_expr(self) -> Any:
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            left = bool(left) and bool(right)
        return left

    def comparison(self) -> Any:
        left = self.unary()
        op = self.peek()
        if op in _COMPARE:
            self.take()
            right = self.unary()
            try:
                return _COMPARE[op](left, right)
            except TypeError as e:
                raise self.fail(f"cannot compare {left!r} {op} {right!r}") from e
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not bool(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if text == "(" and kind == "op":
            value = self.or_expr()
            self.take(")")
            return value
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text in _CASTS:
                self.take("(")
                arg = self.or_expr()
                self.take(")")
                try:
                    return _CASTS[text](arg)
                except (TypeError, ValueError) as e:
                    raise self.fail(f"{text}({arg!r}) is not valid") from e
            if text == "inputs":
                self.take(".")
                self.take("parameter_values")
                self.take("[")
                key_kind, key = self.take()
                if key_kind != "str":
                    raise self.fail("a parameter name must be quoted")
                self.take("]")
                name = key[1:-1]
                if name not in self.values:
                    raise self.fail(f"no value for the input {name!r}")
                return self.values[name]
        raise self.fail(f"unsupported {text!r}")


def evaluate(condition: str, parameter_values: Mapping[str, Any]) -> bool:
    """True when `condition` holds for the task's resolved input parameter values."""
    if not condition.strip():
        return True
    return _Parser(condition, parameter_values).parse()
