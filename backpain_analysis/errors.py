"""The one exception users see: a one-line, actionable message."""

from __future__ import annotations


class DataError(ValueError):
    """Input that cannot be used, described in one line a person can act on.

    The command line prints ``str(error)`` to standard error and exits 2; it
    never shows a traceback for this class. A subclass of ``ValueError``:
    bad input is a bad value, and ``except ValueError`` catches it.
    """
