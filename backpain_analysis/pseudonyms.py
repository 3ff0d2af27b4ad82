"""Stable pseudonyms for client keys, so no figure or table shows a real key.

The mapping is deterministic and needs no secret: the distinct client keys of
a dataset are sorted (as text) and numbered, ``C001``, ``C002``, ... (more
digits when a dataset has 1000 clients or more). The same dataset always gives
the same pseudonyms, and a pseudonym reveals nothing but the key's rank in
sorting order. A keyed hash was rejected on purpose: with a salt stored in the
project anyone could hash candidate names and re-identify clients, whereas a
rank cannot be inverted without the data. The price is that pseudonyms are
stable per dataset, not across datasets: adding a client whose key sorts
earlier renumbers those after it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

PREFIX: str = "C"
"""First character of every pseudonym."""


def pseudonym_map(client_ids: Iterable[object]) -> dict[str, str]:
    """Map each distinct client key to its pseudonym.

    Parameters
    ----------
    client_ids:
        Client keys, repeats and missing values allowed (missing ones are
        skipped). Keys are compared as text.

    Returns
    -------
    dict from key (text) to pseudonym: ``C`` followed by the 1-based rank of
    the key in sorted order, zero-padded to at least 3 digits.
    """
    keys = sorted({str(k) for k in client_ids if not pd.isna(k)})
    width = max(3, len(str(len(keys))))
    return {key: f"{PREFIX}{rank:0{width}d}" for rank, key in enumerate(keys, start=1)}


def pseudonymize(
    frame: pd.DataFrame, mapping: dict[str, str] | None = None, column: str = "client_id"
) -> pd.DataFrame:
    """Replace the client keys in ``column`` by their pseudonyms.

    Parameters
    ----------
    frame:
        Any table with a client-key column; it is not modified.
    mapping:
        From :func:`pseudonym_map`; built from ``frame[column]`` when omitted.
        Pass one mapping to every table of a dataset so a client has the same
        pseudonym everywhere.
    column:
        The client-key column.

    Returns
    -------
    A copy of ``frame`` with ``column`` holding pseudonyms (text). A key
    missing from ``mapping`` raises ``KeyError`` rather than leaking through.
    """
    mapping = pseudonym_map(frame[column]) if mapping is None else mapping
    keys = frame[column].astype("string")
    unknown = sorted(set(keys.dropna()) - set(mapping))
    if unknown:
        raise KeyError(f"{len(unknown)} client key(s) have no pseudonym; build the mapping from every table")
    return frame.assign(**{column: keys.map(mapping).astype("string")})
