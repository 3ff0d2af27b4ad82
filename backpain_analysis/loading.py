"""Loading a dataset folder: every row parsed, checked and accounted for (CONTRACT section 2).

:func:`load` reads the tables as strings (:mod:`backpain_analysis.reading`),
applies the row rules below in order, and returns a
:class:`~backpain_analysis.dataset.Dataset` of normalised tables
(docs/architecture.md) plus the rejected ledger. A row is rejected for the
first rule it fails; accepted + rejected = read for every table, always.

Each rule is a small vectorised function returning the reasons of the rows
that fail it (a Series of strings indexed by spreadsheet row); parsing works
on the distinct values of a column, so a long log costs little more than a
factorisation.

The generic parsing rules (dates, numbers, choices, blanks, duplicates)
live in :mod:`backpain_analysis.column_rules`; this module holds the
contract's table rules. Large tables: columns arrive as codes into their
distinct strings (the reader's ``Categorical`` columns), each parsed column
is kept as codes into its parsed distinct values, and the accepted sessions
stay in that form (:class:`~backpain_analysis.coded.CodedTable`, about 15
bytes a row) in ``Dataset.session_table``, which the weekly panel reads
directly; ``Dataset.sessions`` builds the DataFrame on first use. Ten
million session rows load in a few seconds and well under a gigabyte
(benchmarks/README.md).

Rules, in order
---------------
catalog:  ``exercise`` blank; ``modality`` not one of the six; the same
          exercise name (after normalisation) as an earlier row.
clients:  ``client_id`` blank; ``client_id`` already on an earlier row;
          ``start_date`` not a date; ``age`` not a number 0-120.
sessions: ``client_id``, ``date``, ``exercise`` blank; ``date`` not a date;
          ``sets`` not a whole number 1-1000 (blank: 1); ``reps`` not a whole
          number 0-1000; ``load`` not a number 0-1000 in the row's unit
          (blank: 0 = body weight); ``load_unit`` not kg or lb (blank: kg);
          ``duration_s`` not a number 0-86400; ``rpe`` not a number 0-10; ``modality`` not one of the six
          (blank: the catalog decides); the exercise unknown to the studio and
          built-in catalogs when no modality is given; dated before the
          client's ``start_date``.
outcomes: ``client_id``, ``date``, ``instrument``, ``score`` blank; ``date``
          not a date; ``score`` not a number, or outside the instrument's
          range (items: a whole number 0-5 for ``odi_q*``, 0 or 1 for
          ``rmdq_q*``; custom instruments: a finite number within
          +-1,000,000); dated before
          the client's ``start_date``; an item already given on an earlier
          row for the same client and day; an ODI form with more than
          ``odi_max_missing`` sections unanswered (all its item rows).

Numbers are finite (``inf``, ``nan``, and ``1e308`` in a limited column
are rejected; the limits are plausibility limits, docs/loading.md). Dates
are ISO (``2024-03-05``) or ISO date-times (``2024-03-05 18:30``, ``T``
allowed, seconds optional, no time zone) in the years 1900-2100. Text values are compared with surrounding spaces removed (client keys stay
case-sensitive); ``modality``, ``load_unit`` and ``instrument`` ignore case.
Outcome dates are calendar days (an item form is one client's items on one
day). Item forms follow :func:`~backpain_analysis.instruments.score_odi`
and :func:`~backpain_analysis.instruments.score_rmdq`: an unanswered RMDQ
statement counts as not ticked, so RMDQ forms are always scorable. Extra
columns are kept: numeric when every non-blank value is a number, text
otherwise (blank = missing).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd

from backpain_analysis.catalog import classify_exercises, exercise_key, explain_exercise
from backpain_analysis.coded import Coded, CodedTable, smallest_codes
from backpain_analysis.column_rules import (
    DATE_HINT,
    Checks,
    TextColumn,
    blank_reasons,
    duplicate_reasons,
    first_failures,
    parse_choices,
    parse_dates,
    parse_numbers,
    row_reasons,
    typed_extra,
)
from backpain_analysis.contract import LB_TO_KG, MODALITIES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TABLES
from backpain_analysis.dataset import Dataset, empty_ledger
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import ITEM_FORMS, ITEMS, builtin_instruments, score_odi, score_rmdq
from backpain_analysis.partitions import WholeTable, dataset_parts, read_whole
from backpain_analysis.reading import RawTable, read_dataset, read_table

CLIENT_COLUMNS: tuple[str, ...] = ("client_id", "program", "studio", "start_date", "age", "sex")
"""Clients columns with a meaning (others are kept as extra covariates)."""
MAX_SETS: int = 1000
"""Most sets one row may hold: more is a typo (and 1e19 would overflow int64)."""
MAX_REPS: int = 1000
"""Most reps per set one row may hold."""
MAX_LOAD: float = 1000.0
"""Most external load per rep, in the row's unit (kg or lb): above any lift on record."""
MAX_DURATION_S: float = 86_400.0
"""Most seconds per set (or per class): one day."""
MAX_CUSTOM_SCORE: float = 1_000_000.0
"""Largest magnitude of a custom instrument's score."""
AGE_RANGE: tuple[float, float] = (0.0, 120.0)
"""Valid ``age`` in years."""
IMPLAUSIBLE = ", more than one row can plausibly hold: check for a typo or a unit mix-up"
"""Added to the reason of a number above its plausibility limit."""


def before_start_reasons(client_id: TextColumn, day: Coded, clients: pd.DataFrame) -> pd.Series:
    """Rows dated before their client's ``start_date`` (clients without one pass)."""
    starts = pd.Series(clients["start_date"].to_numpy(dtype="datetime64[ns]"), index=clients["client_id"].to_numpy(dtype=object))
    start = Coded(client_id.codes, starts.reindex(client_id.distinct.to_numpy()).to_numpy(dtype="datetime64[ns]"))
    if np.isnat(start.values).all():
        return row_reasons(client_id.index, np.zeros(len(client_id.codes), dtype=bool))
    row_day, row_start = _days(day.values), _days(start.values, missing=np.iinfo(np.int32).min)
    early = np.empty(len(day.codes), dtype=bool)
    for first in range(0, len(early), _COMPARE_ROWS):  # small temporaries, reused: no fresh memory per row
        part = slice(first, first + _COMPARE_ROWS)
        np.less(row_day[day.codes[part]], row_start[start.codes[part]], out=early[part])
    return row_reasons(client_id.index, early, "date ", day, " is before client ", client_id, "'s start_date ", start)


_COMPARE_ROWS: int = 1 << 20
"""Rows compared at a time by :func:`before_start_reasons`."""


def _days(values: np.ndarray, missing: int = np.iinfo(np.int32).max) -> np.ndarray:
    """Midnight datetimes as int32 days since 1970 (``missing`` for NaT), to compare many rows cheaply."""
    days = values.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(values), missing, days).astype(np.int32)


def classify_rows(exercise: TextColumn, given: Coded, catalog: pd.DataFrame) -> tuple[Coded, pd.Series]:
    """Each row's modality: the row's own ``modality``, else the catalogs'.

    Returns the modalities (None when unknown; codes into
    ``MODALITIES + (None,)``) and, for rows with neither, a reason beginning
    ``unknown exercise``.
    """
    choices = pd.Index([*MODALITIES, None], dtype=object)
    from_catalog = choices.get_indexer(classify_exercises(exercise.distinct, catalog).astype(object).where(lambda m: m.notna(), None))
    own = choices.get_indexer(pd.Index(given.values, dtype=object))
    row_own, row_catalog = own.astype(np.int8)[given.codes], from_catalog.astype(np.int8)[exercise.codes]
    modality = Coded(np.where(row_own < len(MODALITIES), row_own, row_catalog), np.asarray(choices, dtype=object))
    unknown = (modality.codes == len(MODALITIES)) & ~exercise.blank
    # The catalog's own reason ("unknown exercise ... did you mean ...?"), once per distinct unknown name.
    names = exercise.distinct.to_numpy(dtype=object)
    reasons = np.full(len(names), "", dtype=object)
    for code in np.unique(exercise.codes[unknown]):
        reasons[code] = explain_exercise(names[code], catalog).reason
    return modality, row_reasons(exercise.index, unknown, Coded(exercise.codes, reasons))


def _score_ranges() -> pd.DataFrame:
    """Valid score range per instrument name: ``low``, ``high``, ``whole`` (items)."""
    builtin = builtin_instruments().set_index("name")
    ranges = pd.DataFrame({"low": builtin["min"], "high": builtin["max"], "whole": False})
    items = pd.DataFrame({"low": 0.0, "high": [float(form.item_max) for form in ITEMS.values()], "whole": True}, index=list(ITEMS))
    return pd.concat([ranges, items])


def parse_scores(score: TextColumn, instrument: TextColumn) -> tuple[np.ndarray, pd.Series]:
    """Parse outcome scores and check them against each row's instrument.

    Built-in instruments must lie in their range, items must be whole numbers
    in theirs (``odi_q*`` 0-5, ``rmdq_q*`` 0-1), custom instruments need a
    finite number within +-:data:`MAX_CUSTOM_SCORE`. Blank scores pass here (see :func:`blank_reasons`).
    Returns float64 scores and reasons such as
    ``score 14 is outside nprs range 0-10``.
    """
    number, blank = score.numbers(), score.blank
    ranges = _score_ranges().reindex(instrument.distinct.str.lower())
    low, high = instrument.each(ranges["low"]), instrument.each(ranges["high"])
    whole = instrument.each(ranges["whole"].fillna(False).astype(bool))
    bounds = instrument.each(np.array([f"{lo:g}-{hi:g}" for lo, hi in zip(ranges["low"], ranges["high"], strict=True)], dtype=object))
    name = instrument.each(instrument.distinct.str.lower())
    invalid = ~blank & ~np.isfinite(number)
    not_whole = ~blank & ~invalid & whole & (number != np.round(number))
    with np.errstate(invalid="ignore"):
        outside = ~blank & ~invalid & ~not_whole & ((number < low) | (number > high))
        absurd = ~blank & ~invalid & np.isnan(low) & (np.abs(number) > MAX_CUSTOM_SCORE)
    reasons = pd.concat(
        [
            row_reasons(score.index, invalid, "score '", score, "' is not a number"),
            row_reasons(score.index, not_whole, "score ", score, " for ", name, " is not a whole number ", bounds),
            row_reasons(score.index, outside, "score ", score, " is outside ", name, " range ", bounds),
            row_reasons(
                score.index, absurd, "score ", score, " for custom instrument '", name,
                f"' is beyond +-{MAX_CUSTOM_SCORE:,.0f}{IMPLAUSIBLE}",
            ),
        ]
    )
    return np.where(invalid | not_whole | outside | absurd, np.nan, number), reasons


def _table(columns: dict[str, Coded | np.ndarray], raw: pd.DataFrame, known: tuple[str, ...], accepted: np.ndarray) -> CodedTable:
    """The accepted rows: ``columns``, then the file's extra columns (numeric when every accepted value is, else text)."""
    columns = dict(columns)
    for extra in raw.columns:
        if extra not in known and extra not in columns and extra != "source_row":
            columns[extra] = typed_extra(TextColumn(raw[extra], raw.index), accepted)
    return CodedTable(columns, accepted, raw.index)


def _accepted(raw: pd.DataFrame, ledger: pd.DataFrame) -> np.ndarray:
    """Rows not in the ledger (the index holds increasing spreadsheet rows: found by bisection, no hashing)."""
    accepted = np.ones(len(raw), dtype=bool)
    accepted[np.searchsorted(raw.index, ledger["row"].to_numpy(dtype=np.int64))] = False
    return accepted


def _columns(raw: pd.DataFrame, names: tuple[str, ...]) -> dict[str, TextColumn]:
    return {name: TextColumn(raw[name] if name in raw.columns else None, raw.index) for name in names}


def load_catalog(raw: RawTable | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The studio catalog table: accepted rows (``exercise``, ``modality``, extras, ``source_row``) and ledger."""
    if raw is None:
        empty = {"exercise": np.array([], dtype=object), "modality": np.array([], dtype=object)}
        return CodedTable(empty, np.array([], dtype=bool), np.array([], dtype=np.int64)).frame(), empty_ledger()
    frame = raw.frame
    col = _columns(frame, REQUIRED_COLUMNS["catalog"])
    modality, bad_modality = parse_choices(col["modality"], "modality", MODALITIES)
    exercise = pd.Series(col["exercise"].text, index=frame.index)
    keys = pd.Series(col["exercise"].apply(lambda names: names.map(exercise_key)), index=frame.index)
    note = " (names match ignoring case, spacing, hyphens and plurals)"
    checks: Checks = [
        ("exercise", blank_reasons(col["exercise"], "exercise")),
        ("modality", blank_reasons(col["modality"], "modality")),
        ("modality", bad_modality),
        ("exercise", duplicate_reasons(keys, exercise, "exercise", note)),
    ]
    ledger = first_failures("catalog", frame, checks)
    table = {"exercise": col["exercise"].coded_text(), "modality": modality}
    return _table(table, frame, REQUIRED_COLUMNS["catalog"], _accepted(frame, ledger)).frame(), ledger


def load_clients(raw: RawTable | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clients table: accepted rows (docs/architecture.md) and ledger."""
    if raw is None:
        empty = {"client_id": np.array([], dtype=object), "start_date": np.array([], dtype="datetime64[ns]")}
        return CodedTable(empty, np.array([], dtype=bool), np.array([], dtype=np.int64)).frame(), empty_ledger()
    frame = raw.frame
    col = _columns(frame, CLIENT_COLUMNS)
    client_id = pd.Series(col["client_id"].text, index=frame.index)
    start, bad_start = parse_dates(col["start_date"], "start_date")
    age, bad_age = parse_numbers(col["age"], "age", low=AGE_RANGE[0], high=AGE_RANGE[1])
    checks: Checks = [
        ("client_id", blank_reasons(col["client_id"], "client_id")),
        ("client_id", duplicate_reasons(client_id, client_id, "client_id")),
        ("start_date", bad_start),
        ("age", bad_age),
    ]
    ledger = first_failures("clients", frame, checks)
    table = {"client_id": col["client_id"].coded_text()}
    table |= {name: col[name].coded_text(blank_missing=True) for name in ("program", "studio") if name in frame.columns}
    table["start_date"] = start
    table |= {"age": age} if "age" in frame.columns else {}
    table |= {"sex": col["sex"].coded_text(blank_missing=True)} if "sex" in frame.columns else {}
    return _table(table, frame, CLIENT_COLUMNS, _accepted(frame, ledger)).frame(), ledger


def load_sessions(raw: RawTable, catalog: pd.DataFrame, clients: pd.DataFrame) -> tuple[CodedTable, pd.DataFrame]:
    """The sessions table: accepted rows (docs/architecture.md; ``.frame()`` builds them) and ledger.

    ``catalog`` is the accepted studio catalog (overrides the built-in one);
    ``clients`` the accepted clients (for ``start_date``). Every column stays
    codes into its distinct values until the DataFrame is asked for.
    """
    frame = raw.frame
    known = REQUIRED_COLUMNS["sessions"] + OPTIONAL_COLUMNS["sessions"]
    col = _columns(frame, known)
    when, bad_date = parse_dates(col["date"], "date")
    day = when.day()
    sets, bad_sets = parse_numbers(col["sets"], "sets", low=1, high=MAX_SETS, integer=True, default=1, above=IMPLAUSIBLE)
    reps, bad_reps = parse_numbers(col["reps"], "reps", low=0, high=MAX_REPS, integer=True, above=IMPLAUSIBLE)
    load_value, bad_load = parse_numbers(col["load"], "load", low=0, high=MAX_LOAD, default=0.0, above=IMPLAUSIBLE)
    unit, bad_unit = parse_choices(col["load_unit"], "load_unit", ("kg", "lb"), default="kg")
    duration, bad_duration = parse_numbers(col["duration_s"], "duration_s", low=0, high=MAX_DURATION_S, above=IMPLAUSIBLE)
    rpe, bad_rpe = parse_numbers(col["rpe"], "rpe", low=0, high=10)
    given, bad_modality = parse_choices(col["modality"], "modality", MODALITIES)
    modality, unknown = classify_rows(col["exercise"], given, catalog)
    checks: Checks = [
        ("client_id", blank_reasons(col["client_id"], "client_id")),
        ("date", blank_reasons(col["date"], "date")),
        ("date", bad_date),
        ("exercise", blank_reasons(col["exercise"], "exercise")),
        ("sets", bad_sets),
        ("reps", bad_reps),
        ("load", bad_load),
        ("load_unit", bad_unit),
        ("duration_s", bad_duration),
        ("rpe", bad_rpe),
        ("modality", bad_modality),
        ("exercise", unknown),
        ("date", before_start_reasons(col["client_id"], day, clients)),
    ]
    ledger = first_failures("sessions", frame, checks)
    table = {
        "client_id": col["client_id"].coded_text(),
        "date": day,
        "session_start": when,
        "exercise": col["exercise"].coded_text(),
        "modality": modality,
        "sets": Coded(sets.codes, np.nan_to_num(sets.values).astype(np.int64)),  # NaN only on rejected rows
        "reps": reps,
        "load_kg": _kilograms(load_value, unit),
        "duration_s": duration,
        "rpe": rpe,
    }
    return _table(table, frame, known, _accepted(frame, ledger)), ledger


def _kilograms(load: Coded, unit: Coded) -> Coded:
    """Load per rep in kg: ``load`` times 0.45359237 where ``unit`` is lb, coded by each (load, unit) pair."""
    factor = np.where(unit.values == "lb", LB_TO_KG, 1.0)
    codes = smallest_codes(load.codes, len(load.values) * len(factor)) * len(factor) + unit.codes
    return Coded(codes, (load.values[:, None] * factor[None, :]).ravel())


def _form_failures(items: pd.DataFrame, odi_max_missing: int) -> tuple[pd.Series, pd.DataFrame]:
    """Score the item forms in ``items``; reasons for the rows of unscorable forms.

    ``items`` holds the valid, non-duplicate item rows (``client_id``,
    ``date``, ``instrument``, ``score``, ``form``), indexed by source row.
    Returns the reasons and the scored outcome rows (``client_id``, ``date``,
    ``instrument``, ``score``, ``source_row`` = the form's first item row).
    """
    reasons, scored = [], []
    for name, form in ITEM_FORMS.items():
        rows = items[items["form"] == name]
        if rows.empty:
            continue
        forms = score_odi(rows, odi_max_missing) if name == "odi" else score_rmdq(rows)
        first_row = rows.index.to_series().groupby([rows["client_id"], rows["date"]]).min().rename("source_row")
        forms = forms.join(first_row, on=["client_id", "date"])
        scored.append(forms[forms["scorable"]].assign(instrument=name)[["client_id", "date", "instrument", "score", "source_row"]])
        per_row = rows[["client_id", "date"]].join(forms.set_index(["client_id", "date"]), on=["client_id", "date"])
        note = f" of {form.n_items} sections answered; at most {odi_max_missing} may be missing (odi_max_missing)"
        reasons.append(
            row_reasons(
                per_row.index, ~per_row["scorable"].to_numpy(dtype=bool), f"the {name} form of client ",
                per_row["client_id"], " on ", per_row["date"], " has ", per_row["answered"], note,
            )
        )
    return (
        pd.concat(reasons) if reasons else pd.Series([], dtype=object),
        pd.concat(scored, ignore_index=True) if scored else pd.DataFrame(),
    )


def load_outcomes(raw: RawTable, clients: pd.DataFrame, odi_max_missing: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcomes table (item forms scored): accepted rows and ledger.

    An accepted item row becomes part of its form's ``odi`` or ``rmdq`` row
    (``source_row`` = the form's first item row), so ``outcomes`` may have
    fewer rows than were accepted.
    """
    frame = raw.frame
    known = REQUIRED_COLUMNS["outcomes"]
    col = _columns(frame, known)
    when, bad_date = parse_dates(col["date"], "date")
    day = when.day()
    instrument = Coded(col["instrument"].codes, col["instrument"].distinct.str.lower().to_numpy(dtype=object))
    score, bad_score = parse_scores(col["score"], col["instrument"])
    checks: Checks = [
        ("client_id", blank_reasons(col["client_id"], "client_id")),
        ("date", blank_reasons(col["date"], "date")),
        ("date", bad_date),
        ("instrument", blank_reasons(col["instrument"], "instrument")),
        ("score", blank_reasons(col["score"], "score")),
        ("score", bad_score),
        ("date", before_start_reasons(col["client_id"], day, clients)),
    ]
    ledger = first_failures("outcomes", frame, checks)
    table = {"client_id": col["client_id"].coded_text(), "date": day, "instrument": instrument, "score": score}
    form_of = {item: f.instrument for item, f in ITEMS.items()}
    is_item = col["instrument"].each(np.array([name in form_of for name in instrument.values], dtype=bool))
    rows = _accepted(frame, ledger) & is_item
    items = pd.DataFrame(
        {name: column.values[column.codes[rows]] if isinstance(column, Coded) else column[rows] for name, column in table.items()},
        index=frame.index[rows],
    )
    items["form"] = items["instrument"].map(form_of)
    key = items["client_id"] + "\x1f" + items["date"].dt.strftime("%Y-%m-%d") + "\x1f" + items["instrument"]
    duplicates = duplicate_reasons(key, items["instrument"], "instrument", " for this client and day")
    unscorable, scored = _form_failures(items.drop(index=duplicates.index), odi_max_missing)
    checks += [("instrument", duplicates), ("score", unscorable)]
    ledger = first_failures("outcomes", frame, checks)
    plain = _table(table, frame, known, _accepted(frame, ledger) & ~is_item).frame()
    outcomes = pd.concat([plain, scored], ignore_index=True) if len(scored) else plain
    return outcomes.sort_values("source_row", kind="stable").reset_index(drop=True).astype({"source_row": "int64"}), ledger


def load(path: str | Path, *, odi_max_missing: int = 1) -> Dataset:
    """Load a dataset folder (CONTRACT sections 1-2), accounting for every row.

    Parameters
    ----------
    path:
        Folder holding ``sessions`` and ``outcomes`` (and optionally
        ``clients`` and ``catalog``) as ``.csv``, ``.parquet`` or ``.xlsx``.
    odi_max_missing:
        ODI sections that may be unanswered on an item form (0-9; default 1).

    Returns
    -------
    Dataset
        ``sessions``, ``outcomes``, ``clients``, ``catalog`` (accepted rows,
        normalised; columns in docs/architecture.md), ``rejected`` (the
        ledger: ``table``, ``row``, ``column``, ``value``, ``reason``, in
        table then row order), ``read`` (rows read per table present) and
        ``files``.

    Raises
    ------
    DataError
        With a one-line message when the folder, a file, a required table or
        a required column cannot be used. Row problems never raise: they go
        to the ledger. The input files are only read.
    """
    if isinstance(odi_max_missing, bool) or not isinstance(odi_max_missing, int) or not 0 <= odi_max_missing <= 9:
        raise DataError(f"odi_max_missing must be a whole number 0-9, got {odi_max_missing!r}")
    catalog_ready = threading.Thread(target=_prepare_catalog, name="catalog tables", daemon=True)
    catalog_ready.start()  # pure Python: runs while Arrow decodes the files without the GIL
    try:
        raw, wholes = _read_tables(path)
    finally:
        catalog_ready.join()
    catalog, catalog_ledger = load_catalog(raw.get("catalog"))
    clients, clients_ledger = load_clients(raw.get("clients"))
    sessions, sessions_ledger = load_sessions(raw["sessions"], catalog, clients)
    outcomes, outcomes_ledger = load_outcomes(raw["outcomes"], clients, odi_max_missing)
    ledgers = [ledger for ledger in (sessions_ledger, outcomes_ledger, clients_ledger, catalog_ledger) if len(ledger)]
    if wholes:
        ledgers = [_in_parts(ledger, raw, wholes) for ledger in ledgers]
    return Dataset(
        session_table=sessions,
        outcomes=outcomes,
        clients=clients,
        catalog=catalog,
        rejected=pd.concat(ledgers, ignore_index=True) if ledgers else empty_ledger(),
        read={name: raw[name].rows for name in TABLES if name in raw},
        files={name: raw[name].path for name in TABLES if name in raw},
    )


def _prepare_catalog() -> None:
    """Build the built-in catalog's lookup tables (files, phrases, vocabulary, suggestions: a few tenths of a second, once per process).

    An exercise name the catalog does not list word for word needs them;
    :func:`load` builds them while the files are being read.
    """
    explain_exercise("an exercise nobody logs")


def _read_tables(path: str | Path) -> tuple[dict[str, RawTable], dict[str, WholeTable]]:
    """Every contract table in ``path``: a file read as it is, a folder of Parquet parts read as one table (CONTRACT section 1).

    Returns the raw tables and, for the partitioned ones, how their rows map
    back to each part (:class:`~backpain_analysis.partitions.WholeTable`).
    """
    if not Path(path).is_dir() or not any(p.is_dir() and p.name.lower() in TABLES for p in Path(path).iterdir()):
        return read_dataset(path, categorical=True), {}
    raw: dict[str, RawTable] = {}
    wholes: dict[str, WholeTable] = {}
    for name, parts in dataset_parts(path).items():
        if len(parts) == 1 and not parts[0].keys and parts[0].path.parent == Path(path):
            raw[name] = read_table(name, parts[0].path, categorical=True)
        else:
            wholes[name] = read_whole(name, parts)
            raw[name] = wholes[name].raw
    return raw, wholes


def _in_parts(ledger: pd.DataFrame, raw: dict[str, RawTable], wholes: dict[str, WholeTable]) -> pd.DataFrame:
    """The ledger with a ``file`` column: the table's file, or for a partitioned table the part, with its own row number (header = 1)."""
    ledger = ledger.assign(file=ledger["table"].map({name: table.path.name for name, table in raw.items()}).astype(object))
    for name, whole in wholes.items():
        rows = (ledger["table"] == name).to_numpy()
        if rows.any():
            labels, own = whole.locate(ledger.loc[rows, "row"].to_numpy(dtype=np.int64))
            ledger.loc[rows, "file"] = labels
            ledger.loc[rows, "row"] = own
    return ledger
