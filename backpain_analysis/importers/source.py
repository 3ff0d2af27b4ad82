"""Facts about a file being imported that do not depend on its format."""

from __future__ import annotations

import hashlib
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
