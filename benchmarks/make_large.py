"""A contract-format dataset of any size, fast: the input of the scale benchmarks.

``sessions`` has exactly ``rows`` rows (one exercise of one client on one
day, with a start time to the minute), ``outcomes`` a weekly NPRS and a
four-weekly ODI per client, ``clients`` one row per client with program,
studio, start date, age, sex and a ``name`` column (identifying: the loader
must drop it). Clients: one per 500 session rows (10 million rows = 20,000
clients, a studio chain), followed for ``weeks`` weeks at about three
sessions of 4-9 exercises a week. Exercise names are the built-in catalog's
(``data/catalog.csv``), a fifth of them in Title Case. Everything is drawn
with vectorised numpy from one seed: the same arguments give the same files.

A share ``bad_share`` of session rows (and of outcome rows) is planted bad,
one rule each in turn, so that the ledger path runs at scale: unknown
exercise, ``sets`` 0, ``rpe`` 12, negative ``load``, ``load_unit``
``stone``, blank ``client_id``, blank ``date``, a date before the client's
start date; outcomes: NPRS 14, blank score.

Usage::

    python benchmarks/make_large.py --rows 10000000 --out /tmp/backpain_bench/10m

The files go to ``--out`` (never commit them; ``/tmp`` is the place).
Typed Parquet columns (``date`` as a timestamp, ``sets`` as an integer)
are what a database export writes; ``--format csv`` writes CSV instead.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from backpain_analysis.catalog import builtin_catalog

ROWS_PER_CLIENT = 500
WEEKS = 26
FIRST_START = np.datetime64("2024-01-01", "s")
MODALITY_SHARES = {"core": 0.25, "back": 0.20, "other_strength": 0.15, "flexibility": 0.25, "mixed": 0.05, "other": 0.10}
SESSION_BAD = ("unknown_exercise", "sets_zero", "rpe_12", "load_negative", "unit_stone", "blank_client", "blank_date", "before_start")
OUTCOME_BAD = ("nprs_14", "blank_score")
_DAY = np.timedelta64(86400, "s")


def _strings(codes: np.ndarray, dictionary: list[str], missing: np.ndarray | None = None) -> pa.DictionaryArray:
    """``dictionary[codes]`` as an Arrow dictionary column (``missing`` rows null)."""
    indices = pa.array(codes.astype(np.int32), mask=missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(dictionary, type=pa.string()))


def _numbers(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(values, mask=missing)


def _bad_kinds(rng: np.random.Generator, n: int, share: float, kinds: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Disjoint random row sets, one per kind of planted error, ``share * n`` rows in all."""
    n_bad = int(round(share * n))
    rows = rng.choice(n, size=n_bad, replace=False) if n_bad else np.array([], dtype=np.int64)
    return {kind: rows[i :: len(kinds)] for i, kind in enumerate(kinds)}


def _sessions(rng: np.random.Generator, rows: int, n_clients: int, weeks: int, start: np.ndarray, bad_share: float) -> pa.Table:
    per_session = rng.integers(4, 10, size=rows // 4 + 1)
    n_sessions = int(np.searchsorted(np.cumsum(per_session), rows)) + 1
    per_session = per_session[:n_sessions]
    per_session[-1] -= int(per_session.sum()) - rows
    session_client = np.arange(n_sessions) * n_clients // n_sessions
    offset = rng.integers(0, weeks * 7, size=n_sessions) * _DAY + rng.integers(6 * 60, 21 * 60, size=n_sessions) * np.timedelta64(60, "s")
    order = np.lexsort((offset, session_client))
    session_start = start[session_client] + offset[order]
    client = np.repeat(session_client, per_session)
    when = np.repeat(session_start, per_session)

    catalog = builtin_catalog()
    catalog = catalog[catalog["file"] == "catalog.csv"].drop_duplicates("exercise")
    names = {m: catalog.loc[catalog["modality"] == m, "exercise"].tolist() for m in MODALITY_SHARES}
    modalities = list(MODALITY_SHARES)
    modality = rng.choice(len(modalities), size=rows, p=list(MODALITY_SHARES.values()))
    sizes = np.array([len(names[m]) for m in modalities])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    dictionary = [name for m in modalities for name in names[m]]
    exercise = offsets[modality] + (rng.random(rows) * sizes[modality]).astype(np.int64)
    title = rng.random(rows) < 0.2
    exercise = np.where(title, exercise + len(dictionary), exercise)
    dictionary = dictionary + [name.title() for name in dictionary]

    core, back, other_strength, flexibility, mixed, other = (modality == i for i in range(len(modalities)))
    strength = core | back | other_strength
    sets = np.select([strength, flexibility], [rng.integers(2, 5, rows), rng.integers(1, 4, rows)], 1)
    reps = rng.integers(5, 16, rows)
    load = rng.integers(0, 25, rows) * 2.5
    loaded = back | other_strength
    lb = loaded & (rng.random(rows) < 0.1)
    timed_core = core & (rng.random(rows) < 0.3)
    duration = np.select(
        [flexibility | timed_core, mixed, other],
        [rng.integers(20, 61, rows), rng.integers(30, 61, rows) * 60, rng.integers(10, 61, rows) * 60],
        0,
    ).astype(np.float64)
    rpe = rng.integers(3, 10, rows).astype(np.float64)
    rpe_missing = rng.random(rows) < 0.4
    client_missing = np.zeros(rows, dtype=bool)
    date_missing = np.zeros(rows, dtype=bool)

    bad = _bad_kinds(rng, rows, bad_share, SESSION_BAD)
    exercise[bad["unknown_exercise"]] = len(dictionary)
    dictionary = dictionary + ["Jefferson curl"]
    sets[bad["sets_zero"]] = 0
    rpe[bad["rpe_12"]], rpe_missing[bad["rpe_12"]] = 12.0, False
    loaded[bad["load_negative"]], load[bad["load_negative"]] = True, -5.0
    loaded[bad["unit_stone"]] = True
    client_missing[bad["blank_client"]] = True
    date_missing[bad["blank_date"]] = True
    when[bad["before_start"]] = start[client[bad["before_start"]]] - 3 * _DAY
    unit = np.where(lb, 1, 0)
    unit[bad["unit_stone"]] = 2

    return pa.table(
        {
            "client_id": _strings(client, [f"K{i:06d}" for i in range(n_clients)], client_missing),
            "date": pa.array(when, type=pa.timestamp("s"), mask=date_missing),
            "exercise": _strings(exercise, dictionary),
            "sets": pa.array(sets.astype(np.int64)),
            "reps": _numbers(reps, ~strength),
            "load": _numbers(load, ~loaded),
            "load_unit": _strings(unit, ["kg", "lb", "stone"], ~loaded),
            "duration_s": _numbers(duration, duration == 0),
            "rpe": _numbers(rpe, rpe_missing),
        }
    )


def _outcomes(rng: np.random.Generator, n_clients: int, weeks: int, start: np.ndarray, bad_share: float) -> pa.Table:
    week = np.tile(np.arange(weeks), n_clients)
    client = np.repeat(np.arange(n_clients), weeks)
    odi = week % 4 == 0
    client = np.concatenate([client, client[odi]])
    week = np.concatenate([week, week[odi]])
    instrument = np.concatenate([np.zeros(odi.size, dtype=np.int64), np.ones(int(odi.sum()), dtype=np.int64)])
    n = client.size
    day = start[client].astype("datetime64[D]") + week * 7 + rng.integers(0, 7, n)
    nprs = np.clip(np.round(6.5 - 0.12 * week + rng.normal(0, 1.2, n)), 0, 10)
    score = np.where(instrument == 0, nprs, np.clip(np.round(40 - 0.8 * week + rng.normal(0, 8, n)), 0, 100)) + 0.0  # no -0.0
    bad = _bad_kinds(rng, n, bad_share, OUTCOME_BAD)
    instrument[bad["nprs_14"]], score[bad["nprs_14"]] = 0, 14.0
    missing = np.zeros(n, dtype=bool)
    missing[bad["blank_score"]] = True
    return pa.table(
        {
            "client_id": _strings(client, [f"K{i:06d}" for i in range(n_clients)]),
            "date": pa.array(day, type=pa.date32()),
            "instrument": _strings(instrument, ["nprs", "odi"]),
            "score": _numbers(score, missing),
        }
    )


def _clients(rng: np.random.Generator, n_clients: int, start: np.ndarray) -> pa.Table:
    ids = [f"K{i:06d}" for i in range(n_clients)]
    return pa.table(
        {
            "client_id": ids,
            "name": [f"Client {i}" for i in range(n_clients)],
            "program": _strings(rng.integers(0, 3, n_clients), ["usual", "strength_mobility", "stretching_only"]),
            "studio": _strings(rng.integers(0, 12, n_clients), [f"studio_{i:02d}" for i in range(12)]),
            "start_date": pa.array(start.astype("datetime64[D]"), type=pa.date32()),
            "age": pa.array(rng.integers(20, 76, n_clients)),
            "sex": _strings(rng.integers(0, 2, n_clients), ["F", "M"]),
        }
    )


def make_dataset(
    out: str | Path,
    rows: int,
    *,
    seed: int = 7,
    weeks: int = WEEKS,
    bad_share: float = 0.001,
    file_format: str = "parquet",
) -> dict[str, int]:
    """Write ``sessions``, ``outcomes`` and ``clients`` to folder ``out``.

    Parameters
    ----------
    out:
        Folder to create (or fill).
    rows:
        Session rows (exact).
    seed:
        Seed of numpy's default generator.
    weeks:
        Weeks each client is followed.
    bad_share:
        Share of session and outcome rows planted bad (0-1).
    file_format:
        ``parquet`` or ``csv``.

    Returns
    -------
    Rows written per table.
    """
    rng = np.random.default_rng(seed)
    n_clients = max(1, rows // ROWS_PER_CLIENT)
    start = FIRST_START + rng.integers(0, 182, n_clients) * _DAY
    tables = {
        "sessions": _sessions(rng, rows, n_clients, weeks, start, bad_share),
        "outcomes": _outcomes(rng, n_clients, weeks, start, bad_share),
        "clients": _clients(rng, n_clients, start),
    }
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if file_format == "parquet":
            pq.write_table(table, folder / f"{name}.parquet")
        else:
            plain = pa.table({c: table[c].cast(table[c].type.value_type) if pa.types.is_dictionary(table[c].type) else table[c] for c in table.column_names})
            pacsv.write_csv(plain, folder / f"{name}.csv")
    return {name: table.num_rows for name, table in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="session rows (default 10,000,000)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (under /tmp; never committed)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weeks", type=int, default=WEEKS)
    parser.add_argument("--bad-share", type=float, default=0.001, help="share of rows planted bad (default 0.001)")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    args = parser.parse_args()
    began = time.perf_counter()
    counts = make_dataset(args.out, args.rows, seed=args.seed, weeks=args.weeks, bad_share=args.bad_share, file_format=args.format)
    listed = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    print(f"wrote {listed} to {args.out} in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
