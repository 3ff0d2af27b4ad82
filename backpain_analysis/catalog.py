"""The exercise catalog: exercise names -> modality (CONTRACT section 1).

The built-in catalog is data, not code: ``data/catalog.csv`` (curated from the
contract, the low-back-pain exercise literature and studio programs) followed
by ``data/catalog_apps.csv`` (names from the Strong, Hevy and Fitbod exercise
libraries; optional). Both files have the same columns:

``exercise``
    A name as people write it (any case, spacing, hyphens, plural).
``modality``
    One of :data:`backpain_analysis.contract.MODALITIES`.
``source``
    Where the name comes from (``CONTRACT.md``, a reference, ``studio programs``,
    an app library).
``note``
    Optional: why the exercise has this modality when a coach could hesitate.

Matching (:func:`normalize_exercise_name`, then spaces removed) ignores case,
spaces, hyphens, underscores, apostrophes and other punctuation, plural
endings, and a trailing parenthesised equipment note: ``"Pull-Ups (Assisted)"``,
``"pull up"`` and ``"PullUp"`` are one exercise, and ``"Row (Machine)"`` is a
``row`` (back), not a ``rowing`` machine (other). A name still unknown is
tried once more without an app's trailing `` - variant`` suffix
(``"Seated Cable Row - V Grip (Cable)"`` -> ``seated cable row``).

Precedence: a studio's ``catalog`` table overrides the built-in catalog; within
the built-in catalog the first file and the first row listing a name win.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from backpain_analysis.contract import MODALITIES
from backpain_analysis.errors import DataError

CATALOG_COLUMNS: tuple[str, ...] = ("exercise", "modality", "source", "note")
"""Columns of ``data/catalog.csv`` and ``data/catalog_apps.csv``."""

BUILTIN_FILES: tuple[str, ...] = ("catalog.csv", "catalog_apps.csv")
"""Built-in catalog files in precedence order (the second may be absent)."""

_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_APOSTROPHES = re.compile(r"['\u2018\u2019`\u00b4]")
_SEPARATORS = re.compile(r"[\W_]+")
_VARIANT_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+.*$", re.DOTALL)
_IRREGULAR_PLURALS = {"calves": "calf", "halves": "half", "flyes": "fly", "feet": "foot"}


def _singular(word: str) -> str:
    """English singular of one lower-case word, for matching only.

    ``-ies`` -> ``-y``; ``-ches/-shes/-xes/-sses`` drop ``es``; otherwise a
    final ``s`` is dropped unless the word ends in ``ss``, ``us`` or ``is`` or
    has fewer than three letters.
    """
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if len(word) < 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1]


def normalize_exercise_name(name: str) -> str:
    """A canonical spelling of an exercise name, used for matching.

    Lower-cases (Unicode case folding), drops every trailing parenthesised
    note (unless nothing else is left), removes apostrophes, turns any other
    run of punctuation, hyphens, underscores or spaces into one space and
    makes each word singular.

    Examples
    --------
    >>> normalize_exercise_name("Pull Up (Assisted)")
    'pull up'
    >>> normalize_exercise_name("Child's Pose")
    'child pose'
    >>> normalize_exercise_name("Cat-Cows")
    'cat cow'
    """
    text = unicodedata.normalize("NFKC", str(name)).casefold().strip()
    while (stripped := _TRAILING_NOTE.sub("", text)) != text and stripped.strip():
        text = stripped
    text = _APOSTROPHES.sub("", text)
    return " ".join(_singular(word) for word in _SEPARATORS.split(text) if word)


def exercise_key(name: str) -> str:
    """The lookup key of a name: :func:`normalize_exercise_name` without spaces (``pullup``)."""
    return normalize_exercise_name(name).replace(" ", "")


@lru_cache(maxsize=1)
def _builtin() -> pd.DataFrame:
    frames = []
    package = resources.files("backpain_analysis") / "data"
    for file_name in BUILTIN_FILES:
        resource = package / file_name
        if not resource.is_file():
            continue
        with resource.open("r", encoding="utf-8") as handle:
            frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
        missing = [c for c in CATALOG_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"built-in catalog {file_name} lacks column {missing[0]!r}")
        bad = ~frame["modality"].isin(MODALITIES) | (frame["exercise"].str.strip() == "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise DataError(f"built-in catalog {file_name} row {row}: blank exercise or modality not one of {', '.join(MODALITIES)}")
        frames.append(frame[list(CATALOG_COLUMNS)].assign(file=file_name))
    return pd.concat(frames, ignore_index=True)


def builtin_catalog() -> pd.DataFrame:
    """The built-in catalog, every row of both data files.

    Returns
    -------
    DataFrame
        ``exercise``, ``modality``, ``source``, ``note`` (strings, as in the
        files) and ``file`` (``catalog.csv`` or ``catalog_apps.csv``), in
        precedence order: for a name listed twice the first row wins.
    """
    return _builtin().copy()


def _lookup(studio_catalog: pd.DataFrame | None) -> dict[str, str]:
    builtin = _builtin()
    keys = builtin["exercise"].map(exercise_key)
    table = dict(zip(keys[::-1], builtin["modality"][::-1], strict=True))
    if studio_catalog is not None and len(studio_catalog):
        table.update(zip(studio_catalog["exercise"].map(exercise_key), studio_catalog["modality"], strict=True))
    return table


def classify_exercises(names: pd.Series, studio_catalog: pd.DataFrame | None = None) -> pd.Series:
    """The modality of each exercise name, or NA when the catalog cannot place it.

    Parameters
    ----------
    names:
        Exercise names as logged.
    studio_catalog:
        Optional studio catalog with columns ``exercise`` and ``modality``
        (already valid modalities); it overrides the built-in catalog.

    Returns
    -------
    Series
        Same index as ``names``, object dtype: a modality string or ``pd.NA``.
        Each distinct name is normalised once, so a long log costs one
        factorisation.
    """
    table = _lookup(studio_catalog)
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    unique_names = pd.Series(np.asarray(uniques, dtype=object)).astype(str)
    modality = unique_names.map(lambda n: table.get(exercise_key(n)))
    unknown = modality.isna()
    modality[unknown] = unique_names[unknown].map(lambda n: table.get(exercise_key(_VARIANT_SUFFIX.sub("", n.strip()))))
    values = np.append(modality.to_numpy(dtype=object), None)[codes]
    return pd.Series(values, index=names.index, dtype=object).where(pd.notna(values), pd.NA)
