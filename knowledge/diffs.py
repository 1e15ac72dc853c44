"""Readable line diffs of article and answer texts, as rows a template renders (and escapes)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context", "added", "removed", "hunk"
    text: str


@dataclass(frozen=True)
class FieldDiff:
    name: str
    lines: tuple[DiffLine, ...]

    @property
    def changed(self) -> bool:
        return any(line.kind in ("added", "removed") for line in self.lines)


def diff_lines(before: str, after: str, *, context: int = 3) -> tuple[DiffLine, ...]:
    """A unified diff of two texts as typed rows (no HTML here: templates escape ``text``)."""
    rows: list[DiffLine] = []
    for raw in difflib.unified_diff(
        (before or "").splitlines(), (after or "").splitlines(), lineterm="", n=context
    ):
        if raw.startswith(("---", "+++")):
            continue
        if raw.startswith("@@"):
            rows.append(DiffLine("hunk", raw))
        elif raw.startswith("+"):
            rows.append(DiffLine("added", raw[1:]))
        elif raw.startswith("-"):
            rows.append(DiffLine("removed", raw[1:]))
        else:
            rows.append(DiffLine("context", raw[1:]))
    return tuple(rows)


def diff_fields(before: dict[str, str], after: dict[str, str]) -> list[FieldDiff]:
    """One FieldDiff per key of ``before``/``after`` (same keys, in ``before``'s order)."""
    return [FieldDiff(name, diff_lines(before[name], after[name])) for name in before]
