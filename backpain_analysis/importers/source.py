"""Facts about a file being imported that do not depend on its format."""

from __future__ import annotations

import hashlib
from pathlib import Path

from backpain_analysis.reading import decode_choice


def file_digest(path: Path) -> str:
    """First 16 hex digits of the SHA-256 of a file's bytes (``import_sha256``)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def decimal_comma(path: Path) -> bool:
    """Whether numbers may use a decimal comma: a CSV whose header line has no comma.

    Semicolon- and tab-separated exports come from locales that write
    ``80,5``; in a comma-separated file a comma can only separate fields.
    """
    if path.suffix.lower() != ".csv":
        return False
    data = path.read_bytes()
    first = data.decode(decode_choice(path, data), errors="replace").lstrip("\ufeff").splitlines()[0]
    return "," not in first
