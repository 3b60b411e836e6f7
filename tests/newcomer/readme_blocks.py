"""The README's fenced code blocks, each with its section and line, for the tests that run them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Block:
    section: str  # the heading above it ("" before the first)
    lang: str
    text: str
    line: int  # 1-based line of the opening fence

    def where(self) -> str:
        return f"README.md line {self.line} ({self.section or 'top'}, ```{self.lang})"


def readme_blocks(text: str | None = None) -> list[Block]:
    text = README.read_text(encoding="utf-8") if text is None else text
    blocks = []
    for m in _FENCE.finditer(text):
        before = text[: m.start()]
        headings = re.findall(r"^#+ (.+)$", before, flags=re.M)
        blocks.append(Block(headings[-1] if headings else "", m.group(1), m.group(2), before.count("\n") + 1))
    return blocks


def commands(block: Block) -> list[str]:
    """The block's shell commands, one per line, `;`-separated ones apart, comments left off."""
    out = []
    for line in block.text.splitlines():
        code = line.split(" #", 1)[0].strip()
        if code and not code.startswith("#"):
            out += [part.strip() for part in code.split(";") if part.strip()]
    return out
