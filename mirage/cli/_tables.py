"""Print rich tables so that no word is ever split across lines.

Each column gets at least the width of its longest word; the space left goes to the columns whose
cells would otherwise wrap.  When even the longest words do not fit side by side (many columns, a
narrow terminal), the table is printed one record per row instead: ``header: value`` lines that wrap
between words.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["print_table"]

_NATURAL = 1_000_000  # a width no table reaches: measures a table at its natural width


def _plain(renderable: RenderableType) -> str:
    if isinstance(renderable, Text):
        return renderable.plain
    return renderable if isinstance(renderable, str) else ""


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _longest_line(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` on ``console`` with every word whole (see the module's docstring)."""
    texts = [[_plain(c.header) if table.show_header else "", *map(_plain, c.cells)] for c in table.columns]
    shortest = [max(1, *(_longest_word(t) for t in column)) for column in texts]
    widest = [max(1, *(_longest_line(t) for t in column)) for column in texts]
    natural = Measurement.get(console, console.options.update_width(_NATURAL), table).maximum
    overhead = natural - sum(widest)
    room = console.width - overhead
    if sum(widest) <= room:
        console.print(table)
    elif sum(shortest) <= room:
        for column, width in zip(table.columns, _share(room, shortest, widest), strict=True):
            column.width = width
        console.print(table)
    else:
        console.print(_records(table, texts))


def _share(room: int, shortest: list[int], widest: list[int]) -> list[int]:
    """Column widths from ``shortest`` up, the spare room shared in proportion to what each lacks."""
    spare = room - sum(shortest)
    lacking = [w - s for s, w in zip(shortest, widest, strict=True)]
    total = sum(lacking)
    widths = [s + (spare * lack // total if total else 0) for s, lack in zip(shortest, lacking, strict=True)]
    return [min(w, most) for w, most in zip(widths, widest, strict=True)]


def _records(table: Table, texts: list[list[str]]) -> Text:
    """The table as one block per row: the first cell in bold, then ``header: value`` lines."""
    lines: list[Text] = []
    if table.title is not None:
        lines.append(Text(_plain(table.title), style="bold"))
    headers = [column[0] for column in texts]
    for row in range(len(texts[0]) - 1 if texts else 0):
        cells = [column[row + 1] for column in texts]
        if not table.show_header:
            lines.append(Text("  ".join(cells)))
            continue
        if lines:
            lines.append(Text(""))
        lines.append(Text(f"{headers[0]}: {cells[0]}", style="bold"))
        pairs = zip(headers[1:], cells[1:], strict=True)
        lines.extend(Text(f"  {header}: {value}") for header, value in pairs)
    return Text("\n").join(lines)
