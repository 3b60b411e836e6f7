"""Random small notebook cells for property tests: ints only, so most of them run to the end."""

from __future__ import annotations

import random
from typing import Any

NAMES = ["a", "b", "c", "d"]


class RandomCell:
    """Writes one random cell: ints only, so most programs run to the end."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.functions: list[str] = []

    def expr(self, depth: int = 0) -> str:
        r = self.rng
        leaf = r.choice([*NAMES, str(r.randint(0, 2))])
        if depth > 2:
            return leaf
        sub = lambda: self.expr(depth + 1)  # noqa: E731
        forms = [
            lambda: leaf,
            lambda: leaf,
            lambda: f"({sub()} + {sub()})",
            lambda: f"({r.choice(NAMES)} := {sub()})",
            lambda: f"sum([v + {sub()} for v in range({r.randint(0, 2)})])",
            lambda: f"sum(v * {sub()} for v in range(2) if {sub()})",
            lambda: f"(lambda v: v + {sub()})({sub()})",
            lambda: f"({sub()} if {sub()} else {sub()})",
            lambda: f"({sub()} or {sub()})",
            lambda: f"sum([(w := v) for v in range({r.randint(0, 2)})] + [{sub()}])",
        ]
        if self.functions:
            forms.append(lambda: f"{r.choice(self.functions)}({sub()})")
        return r.choice(forms)()

    def block(self, indent: str, depth: int, size: int | None = None) -> list[str]:
        count = size if size is not None else self.rng.randint(1, 3)
        lines: list[str] = []
        for _ in range(count):
            lines += self.statement(indent, depth)
        return lines

    def statement(self, indent: str, depth: int) -> list[str]:
        r, name = self.rng, self.rng.choice(NAMES)
        simple = [
            lambda: [f"{indent}{name} = {self.expr()}"],
            lambda: [f"{indent}{name} += {self.expr()}"],
            lambda: [f"{indent}{name}, *{r.choice(NAMES)} = [{self.expr()}, 1]"],
            lambda: [f"{indent}{name} = 1 // ({self.expr()})"],
        ]
        if depth > 1:
            return r.choice(simple)()
        inner = indent + "    "
        compound = [
            lambda: [f"{indent}if {self.expr()}:", *self.block(inner, depth + 1)],
            lambda: [
                f"{indent}if {self.expr()}:",
                *self.block(inner, depth + 1),
                f"{indent}else:",
                *self.block(inner, depth + 1),
            ],
            lambda: [f"{indent}for {name} in range({r.randint(0, 2)}):", *self.block(inner, depth + 1)],
            lambda: [f"{indent}while True:", *self.block(inner, depth + 1), f"{inner}break"],
            lambda: [
                f"{indent}try:",
                *self.block(inner, depth + 1),
                f"{indent}except ZeroDivisionError as {name}:",
                *self.block(inner, depth + 1),
            ],
            lambda: [
                f"{indent}try:",
                *self.block(inner, depth + 1),
                f"{indent}finally:",
                *self.block(inner, 2),
            ],
            lambda: [
                f"{indent}match {self.expr()}:",
                f"{inner}case 0:",
                *self.block(inner + "    ", depth + 2),
                f"{inner}case {name}:",
                *self.block(inner + "    ", depth + 2),
            ],
            lambda: [f"{indent}del {name}"],
            lambda: self.function(indent, depth),
            lambda: self.closure(indent),
            lambda: [
                f"{indent}with nullcontext({self.expr()}) as {name}:",
                *self.block(inner, depth + 1),
            ],
            lambda: [
                f"{indent}for {name} in range({r.randint(0, 2)}):",
                *self.block(inner, depth + 1),
                f"{inner}if {self.expr()}:",
                f"{inner}    break",
                f"{indent}else:",
                *self.block(inner, depth + 1),
            ],
            lambda: self.later_callables(indent),
            lambda: [f"{indent}class K:", *self.block(inner, 2), f"{indent}{name} = K.__name__ and 1"],
        ]
        return r.choice([*simple, *simple, *compound])()

    def closure(self, indent: str) -> list[str]:
        fname = f"g{len(self.functions)}"
        lines = [
            f"{indent}def {fname}(p):",
            f"{indent}    q = p + {self.expr()}",
            f"{indent}    def inner():",
            f"{indent}        nonlocal q",
            f"{indent}        q += {self.expr()}",
            f"{indent}        return q",
            f"{indent}    return inner() + {self.expr()}",
        ]
        self.functions.append(fname)
        return lines

    def later_callables(self, indent: str) -> list[str]:
        """A lambda and a generator made now and used after more statements ran."""
        fname = f"g{len(self.functions)}"
        lines = [
            f"{indent}{fname} = lambda v: v + {self.expr()}",
            f"{indent}gen = (v + {self.expr()} for v in range(2))",
        ]
        lines += self.block(indent, 2)
        lines.append(f"{indent}{self.rng.choice(NAMES)} = sum(gen) + {fname}(1)")
        self.functions.append(fname)
        return lines

    def function(self, indent: str, depth: int) -> list[str]:
        r = self.rng
        fname = f"g{len(self.functions)}"
        inner = indent + "    "
        lines = [f"{indent}def {fname}(p={self.expr()}):"]
        if r.random() < 0.3:
            lines.append(f"{inner}global {r.choice(NAMES)}")
        lines += self.block(inner, 2)
        lines.append(f"{inner}return p + {self.expr()}")
        if r.random() < 0.6:
            lines.append(f"{indent}{r.choice(NAMES)} = {fname}(1)")
        self.functions.append(fname)
        return lines


class TrackingNamespace(dict[str, Any]):
    """A module namespace that notes which outside values the cell reads."""

    def __init__(self, outside: dict[str, int]) -> None:
        super().__init__(outside)
        self.outside = dict(outside)
        self.read_from_outside: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        if name in self.outside and value is self.outside[name]:
            self.read_from_outside.add(name)
        return value


def run_tracked(source: str) -> tuple[TrackingNamespace, bool]:
    # Big ints made at run time are distinct objects: `is` tells an outside value from the cell's.
    namespace = TrackingNamespace(
        {name: int(f"10{index}000000000000000001") for index, name in enumerate(NAMES)}
    )
    try:
        exec(compile(source, "<cell>", "exec"), namespace)
    except Exception:
        return namespace, False
    return namespace, True
