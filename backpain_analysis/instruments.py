"""Outcome instruments: range, direction, clinically important change, item scoring.

The instruments are data: ``data/instruments.csv`` has one row per built-in
instrument with columns

``name``
    Canonical lower-case name used in ``outcomes.instrument``.
``label``
    Full name.
``min``, ``max``
    Valid score range (blank: unbounded, any finite number).
``higher_is_better``
    ``true`` for function scales (PSFS, sit-and-reach), ``false`` for pain and
    disability.
``unit``
    Unit of the score.
``mcid_abs``
    Minimal clinically important improvement in score units (blank: none
    established).
``mcid_rel``
    Minimal important improvement as a fraction of the baseline score (0.30
    per Ostelo et al. 2008; blank: none).
``recovered_threshold``
    A score at or on the good side of this value counts as recovered (Kamper
    et al. 2010: NPRS 0, RMDQ <= 2; blank: none).
``source``
    References for the values above.

Direction (one owner): every analysis resolves its outcome through
:func:`outcome_instrument`, and every result that presents benefit carries
that :class:`Instrument` and ``improvement`` columns signed by
:attr:`Instrument.sign` (positive = better), beside the raw ``estimate``
columns (outcome units, higher = higher score). A custom outcome (any name
that is not built in) is lower-is-better by default, like pain and
disability (:data:`CUSTOM_HIGHER_IS_BETTER`); declare otherwise with
``instrument("grip strength", higher_is_better=True)`` and pass that
instrument as the ``outcome`` of any analysis.

Item-level forms (``odi_q1`` ... ``odi_q10``, 0-5 each; ``rmdq_q1`` ...
``rmdq_q24``, 0 or 1) are scored into ``odi`` and ``rmdq`` by
:func:`score_odi` and :func:`score_rmdq`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from backpain_analysis.errors import DataError


CUSTOM_HIGHER_IS_BETTER: bool = False
"""Direction of a custom outcome nobody declared: lower is better, as for pain and disability."""


@dataclass(frozen=True)
class Instrument:
    """One instrument, built-in or custom (see the module docstring for each field).

    Missing values (``min``, ``max``, ``mcid_abs``, ``mcid_rel``,
    ``recovered_threshold``) are ``None``. ``builtin`` is False for a custom
    outcome; ``declared`` says whether its direction was declared (always
    True for a built-in) or is the default :data:`CUSTOM_HIGHER_IS_BETTER`.
    """

    name: str
    label: str
    min: float | None
    max: float | None
    higher_is_better: bool
    unit: str
    mcid_abs: float | None
    mcid_rel: float | None
    recovered_threshold: float | None
    source: str
    builtin: bool = True
    declared: bool = True

    @property
    def sign(self) -> float:
        """+1 when higher scores are better, -1 otherwise: improvement = sign x change."""
        return 1.0 if self.higher_is_better else -1.0

    @property
    def direction(self) -> str:
        """``"higher is better"`` or ``"lower is better"``, with ``(default for a custom outcome)`` when not declared."""
        text = "higher is better" if self.higher_is_better else "lower is better"
        return text if self.declared else f"{text} (default for a custom outcome)"

    def with_improvement(self, frame: pd.DataFrame, columns: tuple[str, str, str] = ("estimate", "conf_low", "conf_high")) -> pd.DataFrame:
        """``frame`` with ``improvement``, ``improvement_low``, ``improvement_high`` added.

        The three raw columns (estimate and interval, outcome units, positive
        = higher score) times :attr:`sign`, the interval re-ordered, so that
        positive means better. ``attrs`` gain ``instrument`` (name),
        ``direction`` and ``sign_convention``. The only place results sign
        their benefit.
        """
        estimate, low, high = (frame[c].to_numpy(float) for c in columns)
        bounds = np.sort(np.column_stack([self.sign * low, self.sign * high]), axis=1) if len(frame) else np.empty((0, 2))
        out = frame.assign(improvement=self.sign * estimate, improvement_low=bounds[:, 0], improvement_high=bounds[:, 1])
        out.attrs.update(frame.attrs)
        out.attrs.update(
            instrument=self.name,
            direction=self.direction,
            sign_convention=f"{columns[0]}/{columns[1]}/{columns[2]}: raw, outcome units; improvement*: positive = better",
        )
        return out

    def improvement(self, baseline, score):
        """Change from ``baseline`` to ``score`` in the direction of improvement.

        ``score - baseline`` when higher is better, ``baseline - score``
        otherwise; positive means better. Works element-wise on numbers,
        arrays and Series (units: the instrument's).
        """
        return score - baseline if self.higher_is_better else baseline - score

    def is_important_improvement(self, baseline, score, *, relative: bool = False):
        """Whether the change from ``baseline`` reaches the minimal important change.

        Absolute: ``improvement >= mcid_abs``. Relative (``relative=True``):
        ``improvement / baseline >= mcid_rel``, defined only for instruments
        with a relative MCID and a positive baseline (False otherwise).
        Raises ``ValueError`` when the instrument has no such MCID.
        """
        gain = self.improvement(baseline, score)
        if relative:
            if self.mcid_rel is None:
                raise ValueError(f"{self.name} has no relative minimal important change")
            base = np.asarray(baseline, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(base > 0, np.asarray(gain, dtype=float) / base, -np.inf)
            return _like(baseline, ratio >= self.mcid_rel - 1e-12)
        if self.mcid_abs is None:
            raise ValueError(f"{self.name} has no established minimal clinically important change")
        return _like(baseline, np.asarray(gain, dtype=float) >= self.mcid_abs - 1e-12)

    def is_recovered(self, score):
        """Whether ``score`` is at or on the good side of ``recovered_threshold``.

        Raises ``ValueError`` when the instrument has no recovery cut-off.
        """
        if self.recovered_threshold is None:
            raise ValueError(f"{self.name} has no established recovery cut-off")
        values = np.asarray(score, dtype=float)
        if self.higher_is_better:
            return _like(score, values >= self.recovered_threshold)
        return _like(score, values <= self.recovered_threshold)


def _like(template, values: np.ndarray):
    """``values`` shaped like ``template``: a Series keeps its index, a scalar stays scalar."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index)
    return values.item() if values.ndim == 0 else values


@dataclass(frozen=True)
class ItemForm:
    """An item-level questionnaire scored into one instrument."""

    instrument: str
    n_items: int
    item_max: int

    @property
    def items(self) -> tuple[str, ...]:
        """Item names, ``<instrument>_q1`` ... ``<instrument>_q<n_items>``."""
        return tuple(f"{self.instrument}_q{i}" for i in range(1, self.n_items + 1))


ITEM_FORMS: dict[str, ItemForm] = {
    "odi": ItemForm("odi", 10, 5),
    "rmdq": ItemForm("rmdq", 24, 1),
}
"""Item forms by the instrument they are scored into."""

ITEMS: dict[str, ItemForm] = {item: form for form in ITEM_FORMS.values() for item in form.items}
"""Item name (``odi_q3``) -> its form."""

_NUMBER_COLUMNS = ("min", "max", "mcid_abs", "mcid_rel", "recovered_threshold")


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    resource = resources.files("backpain_analysis") / "data" / "instruments.csv"
    with resource.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    for column in _NUMBER_COLUMNS:
        table[column] = pd.to_numeric(table[column].replace("", np.nan)).astype("float64")
    table["higher_is_better"] = table["higher_is_better"].str.lower().map({"true": True, "false": False})
    return table


def builtin_instruments() -> pd.DataFrame:
    """The built-in instruments, one row each, columns as in ``data/instruments.csv``.

    Numeric columns are float64 (NaN where the file is blank);
    ``higher_is_better`` is bool.
    """
    return _table().copy()


def normalize_outcome(name: str) -> str:
    """An outcome name as the panel spells it: surrounding spaces dropped, lower case (``" NPRS"`` -> ``"nprs"``)."""
    return str(name).strip().lower()


def instrument(
    name: str,
    higher_is_better: bool | None = None,
    *,
    unit: str = "score units",
    mcid_abs: float | None = None,
) -> Instrument:
    """The instrument called ``name`` (case and surrounding spaces ignored).

    A built-in name gives the built-in instrument (``higher_is_better``, if
    given, must agree with it). Any other name needs ``higher_is_better``
    and gives a custom instrument with that direction, ``unit`` and
    ``mcid_abs`` (no range, no relative MCID, no recovery cut-off); pass it
    as ``outcome`` to any analysis to declare a custom outcome's direction.

    Raises ``KeyError`` naming the built-in instruments when ``name`` is not
    built in and no direction is given; ``ValueError`` when a given direction
    contradicts a built-in one.
    """
    table = _table()
    key = normalize_outcome(name)
    match = table[table["name"] == key]
    if match.empty:
        if higher_is_better is None:
            raise KeyError(f"unknown instrument {name!r}; built-in: {', '.join(table['name'])}")
        return Instrument(
            name=key,
            label=str(name).strip(),
            min=None,
            max=None,
            higher_is_better=bool(higher_is_better),
            unit=unit,
            mcid_abs=None if mcid_abs is None else float(mcid_abs),
            mcid_rel=None,
            recovered_threshold=None,
            source="custom outcome declared by the user",
            builtin=False,
            declared=True,
        )
    row = match.iloc[0]
    if higher_is_better is not None and bool(higher_is_better) != bool(row["higher_is_better"]):
        direction = "higher" if row["higher_is_better"] else "lower"
        raise ValueError(f"{key} is a built-in instrument on which {direction} is better; higher_is_better={higher_is_better} contradicts it")

    def number(column: str) -> float | None:
        return None if math.isnan(row[column]) else float(row[column])

    return Instrument(
        name=row["name"],
        label=row["label"],
        min=number("min"),
        max=number("max"),
        higher_is_better=bool(row["higher_is_better"]),
        unit=row["unit"],
        mcid_abs=number("mcid_abs"),
        mcid_rel=number("mcid_rel"),
        recovered_threshold=number("recovered_threshold"),
        source=row["source"],
    )


def outcome_instrument(outcome: str | Instrument) -> Instrument:
    """The instrument of an analysis' ``outcome``: the one place direction is decided.

    An :class:`Instrument` is returned as given (a declared custom outcome);
    a built-in name gives the built-in instrument; any other name gives a
    custom instrument with the default direction
    (:data:`CUSTOM_HIGHER_IS_BETTER`, ``declared=False``). The panel column
    analysed is the instrument's ``name`` (lower case).
    """
    if isinstance(outcome, Instrument):
        return outcome
    try:
        return instrument(outcome)
    except KeyError:
        spec = instrument(outcome, CUSTOM_HIGHER_IS_BETTER)
        return replace(spec, source="custom outcome, direction not declared (default: lower is better)", declared=False)


def _answered_items(items: pd.DataFrame, form: ItemForm) -> pd.DataFrame:
    """Sum and count of the answered items per client-day form, checking the input."""
    missing = [c for c in ("client_id", "date", "instrument", "score") if c not in items.columns]
    if missing:
        raise DataError(f"{form.instrument} items need column {missing[0]!r}")
    names = items["instrument"].astype(str).str.strip().str.lower()
    foreign = ~names.isin(form.items)
    if foreign.any():
        raise DataError(f"{names[foreign].iloc[0]!r} is not an item of {form.instrument} ({form.items[0]}..{form.items[-1]})")
    try:
        dates = pd.to_datetime(items["date"], format="ISO8601").dt.normalize()
        scores = pd.to_numeric(items["score"]).astype("float64")
    except (ValueError, TypeError) as error:
        raise DataError(f"{form.instrument} items need ISO dates and numeric scores ({str(error).splitlines()[0]})") from None
    frame = pd.DataFrame(
        {"client_id": items["client_id"].to_numpy(), "date": dates.to_numpy(), "item": names.to_numpy(), "score": scores.to_numpy()}
    )
    if frame.duplicated(["client_id", "date", "item"]).any():
        first = frame[frame.duplicated(["client_id", "date", "item"])].iloc[0]
        raise DataError(f"{first['item']} is given twice for client {first['client_id']} on {first['date']:%Y-%m-%d}")
    valid = frame["score"].isin(np.arange(form.item_max + 1))
    if not valid.all():
        bad = frame[~valid].iloc[0]
        raise DataError(f"{bad['item']} score {bad['score']:g} is not a whole number 0-{form.item_max}")
    return (
        frame.groupby(["client_id", "date"], sort=True)["score"]
        .agg(raw="sum", answered="count")
        .reset_index()
        .astype({"answered": "int64"})
    )


def score_odi(items: pd.DataFrame, max_missing: int = 1) -> pd.DataFrame:
    """Score Oswestry item forms into the ODI (0-100 %, higher = more disabled).

    ODI = sum of answered sections / (5 x sections answered) x 100
    (Fairbank & Pynsent 2000). A form is scored when at most ``max_missing``
    of its 10 sections are unanswered (absent rows).

    Parameters
    ----------
    items:
        Long item rows with ``client_id``, ``date``, ``instrument``
        (``odi_q1`` ... ``odi_q10``) and ``score`` (whole numbers 0-5); one
        form is one client on one calendar day. Each item at most once per form.
    max_missing:
        Sections that may be missing (0-9).

    Returns
    -------
    DataFrame
        One row per form: ``client_id``, ``date`` (midnight), ``score``
        (float, NaN when not scorable), ``answered`` (sections answered),
        ``scorable`` (bool).
    """
    if not 0 <= max_missing < ITEM_FORMS["odi"].n_items:
        raise ValueError(f"max_missing must be 0-9, got {max_missing}")
    forms = _answered_items(items, ITEM_FORMS["odi"])
    scorable = forms["answered"] >= ITEM_FORMS["odi"].n_items - max_missing
    score = forms["raw"] / (5.0 * forms["answered"]) * 100.0
    return forms.drop(columns="raw").assign(score=score.where(scorable), scorable=scorable)[
        ["client_id", "date", "score", "answered", "scorable"]
    ]


def score_rmdq(items: pd.DataFrame) -> pd.DataFrame:
    """Score Roland-Morris item forms into the RMDQ (0-24, higher = more disabled).

    The RMDQ is a checklist: its score is the number of statements ticked, and
    a statement not ticked, or marked not applicable, scores 0 (Roland &
    Morris 1983; Roland & Fairbank 2000). There is no standard rule for
    unanswered items (Kent & Lauridsen, University of Southern Denmark), so
    this follows the questionnaire's own rule: an absent item counts as not
    ticked, and every form is scorable.

    Parameters
    ----------
    items:
        Long item rows with ``client_id``, ``date``, ``instrument``
        (``rmdq_q1`` ... ``rmdq_q24``) and ``score`` (0 or 1), each item at
        most once per client and calendar day.

    Returns
    -------
    DataFrame
        One row per form: ``client_id``, ``date`` (midnight), ``score``
        (float), ``answered`` (item rows given), ``scorable`` (always True).
    """
    forms = _answered_items(items, ITEM_FORMS["rmdq"])
    return forms.rename(columns={"raw": "score"}).assign(scorable=True)[
        ["client_id", "date", "score", "answered", "scorable"]
    ]
