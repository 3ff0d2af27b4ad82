"""Facts about a file being imported that do not depend on its format."""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backpain_analysis.reading import decode_choice


def file_digest(path: Path) -> str:
    """First 16 hex digits of the SHA-256 of a file's bytes (``import_sha256``)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def header_line(path: Path) -> str:
    """The first line of a CSV file as text (encoding chosen as the loader chooses it)."""
    data = path.read_bytes()
    text = data.decode(decode_choice(path, data), errors="replace").lstrip("\ufeff")
    return text.splitlines()[0] if text else ""


def decimal_comma(path: Path) -> bool:
    """Whether numbers may use a decimal comma: a CSV whose header line has no comma.

    Semicolon- and tab-separated exports come from locales that write
    ``80,5``; in a comma-separated file a comma can only separate fields.
    """
    return path.suffix.lower() == ".csv" and "," not in header_line(path)


def ragged_lines(path: Path) -> tuple[list[tuple[int, int]], int]:
    """Unquoted lines of a CSV export with more fields than its header: ``[(line, fields)]`` and the header's count.

    Some apps write a name holding the separator without quotes
    (``Overhead Press (Each Side, Dumbbells)``), so that line has a field too
    many. Such lines cannot be read safely; :func:`without_lines` lets the
    rest of the file be read while they are listed in the ledger. Lines with
    quotes or too few fields (a truncated or broken file) are left to the
    reader, which refuses the file with the line number.
    """
    data = path.read_bytes()
    text = data.decode(decode_choice(path, data), errors="replace").lstrip("\ufeff")
    header = text.splitlines()[0] if text else ""
    delimiter = "," if "," in header else ";" if ";" in header else "\t" if "\t" in header else ","
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = None
    ragged = []
    for record in reader:
        if width is None:
            width = len(record)
        elif len(record) > width and '"' not in lines[reader.line_num - 1]:
            ragged.append((reader.line_num, len(record)))
    return ragged, width or 0


@contextmanager
def without_lines(path: Path, lines: list[int]) -> Iterator[Path]:
    """A temporary copy of ``path`` with ``lines`` (1-based) blanked, so every other row keeps its number."""
    if not lines:
        yield path
        return
    drop = set(lines)
    raw = path.read_bytes().splitlines(keepends=True)
    kept = b"".join(b"\n" if number in drop else line for number, line in enumerate(raw, start=1))
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / path.name
        copy.write_bytes(kept)
        yield copy


def first_line_fields(path: Path) -> tuple[list[str], str]:
    """The fields of a CSV file's first line and its separator (``,``, ``;`` or a tab)."""
    line = header_line(path)
    delimiter = "," if "," in line else ";" if ";" in line else "\t" if "\t" in line else ","
    return next(csv.reader([line], delimiter=delimiter), []), delimiter


@contextmanager
def with_column_names(path: Path, width: int, delimiter: str) -> Iterator[Path]:
    """A temporary copy of ``path`` with a header line ``column 1, column 2, ...`` above its first line.

    For an export whose first line is already a data row (Strong's old Android
    export writes no header): every line keeps its content and moves down one.
    """
    data = path.read_bytes()
    text = data.decode(decode_choice(path, data), errors="replace").lstrip("\ufeff")
    header = delimiter.join(f"column {i}" for i in range(1, width + 1))
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / path.name
        copy.write_text(header + "\n" + text, encoding="utf-8")
        yield copy
