"""A notebook step's imports read from its function's text, without parsing it (issue 15: a
1,000-step notebook pipeline's first run waited ~0.25 s in the runner service, before its first
step, for a parse and a literal reading of each step's function).

The compiler writes every notebook step's function alike (`compiler.kfp_ir.step_function_source`):
a header, the bootstrap that imports the step runtime (`jupyter_mlops`, `sys`, `subprocess`: never
preloaded), and one call of the runtime whose `setup=` and `cell=` are string literals written by
`repr`. What a parse would find there is what those two strings import: an import statement holds
the keyword `import`, so when every `import` in the text sits either in such a bootstrap line or in
those two literals, the statements import nothing that is preloaded, and the two literals, read on
their own (`step_imports`), say the rest. Anything else (the word elsewhere, a literal written
otherwise, a keyword twice) is left to the parse (`step_imports._program_imports`): the same answer,
slower.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# An import line that brings only what is never preloaded (step_imports.NOT_PRELOADED, the standard
# library): those of the compiler's bootstrap.
_QUIET_IMPORT = re.compile(
    r"[ \t]*(?:from[ \t]+jupyter_mlops(?:\.\w+)*[ \t]+import[ \t]+\w+|import[ \t]+(?:sys|subprocess))"
    r"[ \t]+as[ \t]+\w+[ \t]*"
)
# After `setup` or `cell`: `=` and one string literal as `repr` writes it (no prefix, one line, no
# triple quote), then the end of that argument.
_LITERAL = re.compile(r"""=('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")(?=[ \t]*[,)])""")
_KEYWORDS = ("setup", "cell")
_WORD = "import"


def runtime_literals(function: str) -> list[str] | None:
    """The texts of the `setup=` and `cell=` string literals of the step's function `function` (its
    text, from `def` on) when they hold every import it may make besides its bootstrap's (which
    import nothing preloaded); None where only a parse can tell."""
    words = sorted((at, word) for word in _KEYWORDS for at in _whole_words(function, word))
    literals: dict[str, tuple[int, int]] = {}
    for at, word in words:
        if _inside(at, len(word), literals.values()):
            continue  # in a literal read already (the words come in the text's order)
        match = _LITERAL.match(function, at + len(word))
        if match is None or word in literals:
            return None  # the word used otherwise than as the call's keyword, or a keyword twice
        literals[word] = match.span(1)
    if len(literals) != len(_KEYWORDS):
        return None
    at = function.find(_WORD)
    while at >= 0:
        if not _inside(at, len(_WORD), literals.values()):
            start = function.rfind("\n", 0, at) + 1
            end = function.find("\n", at)
            if _QUIET_IMPORT.fullmatch(function, start, len(function) if end < 0 else end) is None:
                return None  # an import the bootstrap's lines do not account for
        at = function.find(_WORD, at + len(_WORD))
    return [function[start:end] for start, end in literals.values()]


def _whole_words(text: str, word: str) -> list[int]:
    """Where `word` stands alone in `text` (no letter, digit or `_` on either side)."""
    found = []
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not _in_name(text[at - 1])) and (end == len(text) or not _in_name(text[end])):
            found.append(at)
        at = text.find(word, end)
    return found


def _in_name(char: str) -> bool:
    return char.isalnum() or char == "_"


def _inside(at: int, length: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= at and at + length <= end for start, end in spans)
