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

import re
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from backpain_analysis.dataset import Dataset

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


HIDDEN: str = "(hidden)"
"""What replaces a client key that has no pseudonym (a key seen only in rejected rows)."""


def pseudonymize_ledger(rejected: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Hide client keys inside the rejected ledger's ``value`` and ``reason`` text.

    The loader names clients in some reasons (``date ... is before client K's
    start_date``, ``the odi form of client K on ...``, ``client_id 'K' is
    already on row 3``). On rows whose ``column`` is ``client_id`` the value
    and its quoted form in the reason become the pseudonym (or
    :data:`HIDDEN`; a blank key stays blank); elsewhere every mapped key written as ``client K``
    becomes ``client <pseudonym>``.

    Parameters
    ----------
    rejected:
        The ledger (``table``, ``row``, ``column``, ``value``, ``reason``);
        not modified.
    mapping:
        From :func:`pseudonym_map`.

    Returns
    -------
    A copy of the ledger with the same columns.
    """
    out = rejected.copy()
    if out.empty:
        return out
    keyed = (out["column"] == "client_id").to_numpy()
    values = out["value"].astype("string").fillna("")
    shown = values.map(lambda key: mapping.get(key.strip(), HIDDEN) if key.strip() else key)
    reasons = [
        reason.replace(f"'{value}'", f"'{hidden}'") if is_key else reason
        for reason, value, hidden, is_key in zip(out["reason"].astype(str), values, shown, keyed, strict=True)
    ]
    if mapping:
        named = re.compile(r"(?<=client )(" + "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)) + r")(?='s | on |$)")
        reasons = [named.sub(lambda m: mapping[m.group(1)], reason) for reason in reasons]
    out["value"] = np.where(keyed, shown, out["value"].astype(object))
    out["reason"] = reasons
    return out


def pseudonymize_dataset(dataset: Dataset, mapping: dict[str, str] | None = None) -> Dataset:
    """A copy of ``dataset`` whose client keys are pseudonyms in every table and in the ledger.

    The sessions are renamed on their codes: only the distinct keys are
    mapped, so a large dataset never builds its sessions DataFrame for this.

    Parameters
    ----------
    dataset:
        A loaded dataset; not modified.
    mapping:
        From :func:`pseudonym_map`; built from :meth:`Dataset.client_ids`
        when omitted.

    Returns
    -------
    A :class:`~backpain_analysis.dataset.Dataset` with the same rows.
    """
    mapping = pseudonym_map(dataset.client_ids()) if mapping is None else mapping
    table = dataset.session_table
    keys = table.columns["client_id"]
    unknown = sorted({str(k) for k in keys.used(table.accepted) if not pd.isna(k)} - set(mapping))
    if unknown:
        raise KeyError(f"{len(unknown)} client key(s) have no pseudonym; build the mapping from every table")
    renamed = np.array([None if pd.isna(k) else mapping.get(str(k)) for k in keys.values], dtype=object)
    tables = {name: pseudonymize(getattr(dataset, name), mapping) for name in ("outcomes", "clients") if "client_id" in getattr(dataset, name)}
    return replace(
        dataset,
        session_table=table.with_column("client_id", keys.relabel(renamed)),
        rejected=pseudonymize_ledger(dataset.rejected, mapping),
        **tables,
    )
