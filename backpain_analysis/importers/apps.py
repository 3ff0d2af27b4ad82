"""One client's workout-app export -> rows of a dataset's ``sessions.csv`` (CONTRACT section 4).

:func:`read_export` detects the app from the header (or takes ``format``),
reads the file as text (:func:`backpain_analysis.reading.read_table`; the
export is never written to) and applies :func:`.sets.build_sets`.
:func:`import_export` writes the result into a dataset folder:

``sessions.csv``
    One row per imported set with the contract columns (``client_id``,
    ``date``, ``exercise``, ``sets`` = 1, ``reps``, ``load``,
    ``load_unit``, ``duration_s``, ``rpe``, ``modality``), then
    ``set_type``, ``distance``, ``distance_unit``, ``assistance`` and the
    provenance ``import_file`` (the export's file name), ``import_format``
    (``strong``, ``hevy``, ``fitbod``), ``import_row`` (its row in the
    export, header = 1) and ``import_sha256`` (the first 16 hex digits of
    the export's SHA-256).
``import_ledger.csv``
    Every export row not imported, with the reason
    (:data:`.store.IMPORT_LEDGER_COLUMNS`).

Idempotence: an app exports the client's whole history every time, so an
import replaces, for this client and this app, every session (workout start
time) that the file contains: the rows an earlier import wrote for those
sessions, in both files, give way to this file's rows. Sessions an earlier
import brought that this file lacks (a partial export, another phone) stay,
as do rows typed by hand, rows from other apps and every other client's
rows. Importing the same file twice therefore changes nothing, and importing
a newer export of the same app updates edited sets instead of doubling them.
Ledger rows without a date are keyed by the file's content hash instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from backpain_analysis.catalog import explain_exercise, place_exercises
from backpain_analysis.contract import MODALITIES, REQUIRED_COLUMNS
from backpain_analysis.errors import DataError
from backpain_analysis.importers import fitbod, hevy, strong
from backpain_analysis.importers.columns import category_modalities, fitnotes_mapping, mapped_format, parse_columns
from backpain_analysis.importers.sets import SET_COLUMNS, BuiltSets, ExportFormat, build_sets
from backpain_analysis.importers.source import (
    decimal_comma as comma_free_header,
    file_digest,
    first_line_fields,
    ragged_lines,
    with_column_names,
    without_lines,
)
from backpain_analysis.importers.store import LEDGER_FILE, find_table, folder_lock, keyed, read_rows, replace_rows, table_path, write_ledger
from backpain_analysis.importers.structure import first_line_is_data, strong_columns
from backpain_analysis.reading import SUFFIXES, normalize_header, read_table

FORMATS: dict[str, ExportFormat] = {f.name: f for f in (strong.FORMAT, hevy.FORMAT, fitbod.FORMAT)}
"""Supported export formats by name (``--format``)."""

LAYOUTS: dict[str, tuple[ExportFormat, ...]] = {"strong": (strong.FORMAT,), "hevy": (hevy.FORMAT,), "fitbod": (fitbod.FORMAT, fitbod.OLDER)}
"""Every layout of each format, tried in this order."""

SESSION_IMPORT_COLUMNS: tuple[str, ...] = (
    "client_id",
    *(c for c in SET_COLUMNS if c != "import_row"),
    "import_file",
    "import_format",
    "import_row",
    "import_sha256",
)
"""Columns an import writes to ``sessions.csv``, in order."""


@dataclass
class AppExport:
    """One export file, read and checked.

    Attributes
    ----------
    path:
        The export.
    format:
        Its format.
    sha256:
        First 16 hex digits of the SHA-256 of its bytes.
    rows_read:
        Data rows (blank lines not counted).
    built:
        Set rows and ledger rows (:class:`.sets.BuiltSets`); every row read
        is in exactly one of them.
    """

    path: Path
    format: ExportFormat
    sha256: str
    rows_read: int
    built: BuiltSets


def detect_format(columns: list[str], file_name: str) -> ExportFormat:
    """The layout whose required columns ``columns`` (lower-cased) all has.

    Raises :class:`DataError` naming the headers expected when none fits
    (:func:`read_export` then tries Strong's column order before giving up).
    """
    for layout in (f for layouts in LAYOUTS.values() for f in layouts):
        if not layout.missing(columns):
            return layout
    expected = "; ".join(f"{fmt.label}: {fmt.example}" for fmt in FORMATS.values())
    raise DataError(
        f"{file_name} is not a Strong, Hevy or Fitbod export (its header: {','.join(columns)}); expected a header like {expected}, "
        "or name the columns with --columns date=...,exercise=...,reps=..."
    )


def _by_structure(frame: pd.DataFrame) -> tuple[pd.DataFrame, str] | None:
    """The export renamed to Strong's English header when its columns have Strong's order and shapes.

    A decimal comma is a number's shape here in any file (``80,5`` in a semicolon file, ``"80,5"``
    quoted in a comma-separated one): how each column's commas are read is decided afterwards
    (:func:`.sets.decimal_marks`)."""
    roles = strong_columns(frame, True)
    if roles is None:
        return None
    note = "recognised as a Strong export by its column order and values: " + ", ".join(
        f"{column!r} = {role}" for column, role in roles.items()
    )
    return frame.rename(columns=roles), note


def _layout(frame: pd.DataFrame, format: str, file_name: str) -> tuple[ExportFormat, pd.DataFrame, str | None]:
    columns = list(frame.columns)
    if format == "auto":
        try:
            return detect_format(columns, file_name), frame, None
        except DataError:
            fitnotes = fitnotes_mapping(columns)
            if fitnotes is not None:
                spec = ",".join(f"{role}={header}" for role, header in fitnotes.items())
                return mapped_format(fitnotes), frame, f"recognised as a FitNotes export by its header: read as --columns {spec!r}"
            found = _by_structure(frame)
            if found is None:
                raise
            return strong.FORMAT, *found
    layouts = LAYOUTS[format]
    fitting = next((f for f in layouts if not f.missing(columns)), None)
    if fitting is not None:
        return fitting, frame, None
    found = _by_structure(frame) if format == "strong" else None
    if found is not None:
        return strong.FORMAT, *found
    fmt = layouts[0]
    listed = ", ".join(repr(m) for m in fmt.missing(columns))
    raise DataError(f"{file_name} is not a {fmt.label} export: it lacks {listed} (a {fmt.label} header: {fmt.example})")


def read_export(
    path: str | Path,
    format: str = "auto",
    unit: str | None = None,
    include_warmups: bool = False,
    *,
    columns: str | dict[str, str] | None = None,
    dayfirst: bool | None = None,
    decimal_comma: bool | None = None,
) -> AppExport:
    """Read one app export into set rows and ledger rows.

    Parameters
    ----------
    path:
        A Strong, Hevy or Fitbod CSV export, or any app's CSV with ``columns``.
    format:
        ``auto`` (detect from the header, a FitNotes header included
        (:func:`.columns.fitnotes_mapping`), else Strong's column order and
        value shapes, :mod:`.structure`), ``strong``, ``hevy`` or ``fitbod``
        (its current and older layouts).
    unit:
        ``kg`` or ``lb`` for exports that do not state their weight unit;
        an export that states another unit is an error.
    include_warmups:
        Import warm-up sets (``set_type`` = ``warmup``) instead of listing
        them in the ledger.
    columns:
        A column mapping (``"date=Date,exercise=Exercise,reps=Reps"`` or a
        dict) for any other app's CSV (:mod:`.columns`); ``format`` is then
        ignored.
    dayfirst:
        ``True``/``False`` fixes the day/month order of all-numeric dates
        (``--dayfirst``/``--monthfirst``); ``None`` decides from the values.
    decimal_comma:
        ``True`` (``--decimal-comma``) reads ``9,07`` as 9.07 in every number
        column, ``False`` never; ``None`` (default) does so in a file that is
        not comma-separated, and in a comma-separated one decides per column
        from its quoted values (:func:`.sets.decimal_marks`: stated in the
        notes, ambiguous values ledgered with both readings).

    Raises
    ------
    DataError
        Missing or unreadable file, unknown format, a header lacking a
        column the format needs, a unit contradicting ``unit``, a bad mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"export file {path} does not exist")
    if format != "auto" and format not in FORMATS:
        raise DataError(f"--format {format!r} is not one of auto, {', '.join(FORMATS)}")
    if unit is not None and unit not in ("kg", "lb"):
        raise DataError(f"--unit {unit!r} is not kg or lb")
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path.name} is not a CSV file: expected a Strong, Hevy or Fitbod CSV export")
    mapping = parse_columns(columns) if isinstance(columns, str) else columns
    ragged, width = ragged_lines(path)
    fields, delimiter = first_line_fields(path)
    headerless = mapping is None and format in ("auto", "strong") and first_line_is_data(fields)
    with without_lines(path, [line for line, _ in ragged]) as readable:
        if headerless:
            with with_column_names(readable, len(fields), delimiter) as named:
                table = read_table("export", named)
            table.frame.index = table.frame.index - 1  # every row keeps its line number in the file
        else:
            table = read_table("export", readable)
    if mapping is not None:
        fmt, frame = mapped_format(mapping), table.frame
        missing = fmt.missing(list(frame.columns))
        if missing:
            given = next(h for h in mapping.values() if normalize_header(h) == missing[0])
            raise DataError(f"{path.name} has no column {given!r} named in --columns (its columns: {', '.join(frame.columns)})")
        note = None
    else:
        try:
            fmt, frame, note = _layout(table.frame, format, path.name)
        except DataError:
            if not headerless:
                raise
            raise DataError(
                f"{path.name} has no header line (its first line is {delimiter.join(fields)!r}) and its columns are not "
                "Strong's in order: add the app's header line to the file's top, then name its columns with --columns "
                "date=...,exercise=...,reps=..."
            ) from None
    marks = decimal_comma if decimal_comma is not None else (True if comma_free_header(path) else None)
    built = build_sets(fmt.to_rows(frame), fmt, include_warmups=include_warmups, unit=unit, decimal_comma=marks, dayfirst=dayfirst)
    if note:
        built.notes.insert(0, note)
    if headerless:
        built.notes.insert(0, f"{path.name} has no header line: its first line (dated {fields[0]!r}) is a set and is read as data")
    if ragged:
        reason = "line has {} fields but the header has {}: a separator inside an unquoted value (not read)"
        extra = pd.DataFrame(
            [{"row": line, "date": "", "exercise": "", "column": "", "value": "", "reason": reason.format(n, width)} for line, n in ragged]
        )
        built.ledger = pd.concat([built.ledger, extra], ignore_index=True).sort_values("row", kind="stable", ignore_index=True)
    return AppExport(path=path, format=fmt, sha256=file_digest(path), rows_read=table.rows + len(ragged), built=built)


def studio_catalog(folder: Path) -> pd.DataFrame | None:
    """The catalog table of the dataset folder ``folder`` (``exercise``, ``modality``; valid rows only), if it has one."""
    found = find_table(folder, "catalog")
    if found is None:
        return None
    frame = read_table("catalog", found).frame
    modality = frame["modality"].str.strip().str.lower()
    return pd.DataFrame({"exercise": frame["exercise"], "modality": modality})[modality.isin(list(MODALITIES))]


@dataclass
class ImportResult:
    """What :func:`import_export` did.

    Attributes
    ----------
    export:
        The export as read.
    client_id:
        The client its rows belong to.
    sessions_path, ledger_path:
        Files written.
    replaced_sets, replaced_ledger:
        Rows of earlier imports that this import replaced.
    placed:
        Imported sets whose modality is known (a row modality or the
        catalog, the folder's ``catalog`` table included).
    unplaced:
        Exercise names the catalog cannot place -> number of sets, most
        frequent first; the loader will reject those rows as ``unknown
        exercise``.
    by_rule:
        Names placed by a structural rule rather than an exact catalog
        entry, for a coach to review: index ``exercise``, columns ``reason``
        (:attr:`backpain_analysis.catalog.ExercisePlacement.reason`) and
        ``sets``.
    warnings:
        Things a person must know (an export also imported for another client).
    by_category:
        Names no catalog places that the app's own category placed
        (:data:`.columns.APP_CATEGORIES`; FitNotes' Abs, Back, ...), for a
        coach to review: index ``exercise``, columns ``category``,
        ``modality`` and ``sets``. Their rows carry that ``modality`` in
        ``sessions.csv``.
    """

    export: AppExport
    client_id: str
    sessions_path: Path
    ledger_path: Path
    replaced_sets: int
    replaced_ledger: int
    placed: int
    unplaced: pd.Series
    by_rule: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    by_category: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["category", "modality", "sets"]))

    @property
    def sets_imported(self) -> int:
        """Set rows written to ``sessions.csv``."""
        return len(self.export.built.sets)

    @property
    def ledger_rows(self) -> int:
        """Export rows listed in the ledger."""
        return len(self.export.built.ledger)

    @property
    def placed_share(self) -> float:
        """Share of imported sets whose modality is known (NaN with no sets)."""
        return self.placed / self.sets_imported if self.sets_imported else float("nan")

    def summary(self) -> list[str]:
        """Lines a person reads after an import."""
        export = self.export
        lines = [
            f"{export.path.name} ({export.format.label} export) for client {self.client_id}: {export.rows_read} rows read, "
            f"{self.sets_imported} sets written to {self.sessions_path}, {self.ledger_rows} rows listed in {self.ledger_path}",
            *self.warnings,
        ]
        if self.replaced_sets or self.replaced_ledger:
            lines.append(
                f"replaced {self.replaced_sets} set rows and {self.replaced_ledger} ledger rows of earlier imports of these sessions"
            )
        reasons = export.built.ledger["reason"].value_counts()
        lines += [f"  not imported: {count} x {reason}" for reason, count in reasons.items()]
        lines += export.built.notes
        if self.sets_imported:
            lines.append(f"modality known for {self.placed} of {self.sets_imported} sets ({100 * self.placed_share:.1f} %)")
        if len(self.by_rule):
            lines.append(f"{len(self.by_rule)} exercise names placed by rule, not by an exact catalog entry (review them):")
            lines += [f"  {row.reason} [{row.sets} sets]" for row in self.by_rule.itertuples()]
        if len(self.by_category):
            lines.append(f"{len(self.by_category)} exercise names no catalog places, placed by the app's own category (review them):")
            lines += [
                f"  {name!r} -> {row.modality}: the app's category {row.category!r} [{row.sets} sets]" for name, row in self.by_category.iterrows()
            ]
        if len(self.unplaced):
            names = ", ".join(f"{name!r} ({count})" for name, count in self.unplaced.items())
            lines.append(f"exercises the catalog cannot place (add them to {self.sessions_path.parent / 'catalog.csv'}): {names}")
            lines += [f"  {explain_exercise(str(name)).reason}" for name in self.unplaced.index]
        return lines


def import_export(
    path: str | Path,
    client_id: str,
    out: str | Path,
    format: str = "auto",
    unit: str | None = None,
    include_warmups: bool = False,
    *,
    columns: str | dict[str, str] | None = None,
    dayfirst: bool | None = None,
    allow_duplicate: bool = False,
    decimal_comma: bool | None = None,
) -> ImportResult:
    """Import one client's app export into the dataset folder ``out``.

    See the module docstring for the files written and the idempotence rule;
    :func:`read_export` for the parameters ``path``, ``format``, ``unit``,
    ``include_warmups``, ``columns``, ``dayfirst`` and ``decimal_comma``. ``out`` is created
    when missing. Imports into one folder are serialised by a lock file
    (:func:`.store.folder_lock`), so concurrent imports never lose a row.

    The same export (same bytes) already imported for another client is
    refused: its sets would count twice. ``allow_duplicate=True``
    (``--allow-duplicate``) imports it anyway, with a warning in the summary.

    Raises
    ------
    DataError
        As :func:`read_export`, for a blank client id, an export imported
        for another client, and when ``out`` holds a ``sessions`` table an
        import cannot add to.
    """
    client_id = str(client_id).strip()
    if not client_id:
        raise DataError("--client-id is blank: give the client's key")
    export = read_export(path, format, unit, include_warmups, columns=columns, dayfirst=dayfirst, decimal_comma=decimal_comma)
    folder = Path(out)
    sessions_path = table_path(folder, "sessions")
    ledger_path = table_path(folder, LEDGER_FILE.removesuffix(".csv"))
    folder.mkdir(parents=True, exist_ok=True)
    fmt, built = export.format.name, export.built
    provenance = {"import_file": export.path.name, "import_format": fmt, "import_sha256": export.sha256}
    sets = built.sets.assign(client_id=client_id, **provenance).reindex(columns=list(SESSION_IMPORT_COLUMNS))
    ledger = built.ledger.assign(client_id=client_id, file=export.path.name, import_format=fmt, import_sha256=export.sha256)
    sessions = (set(built.sets["date"]) | set(built.ledger["date"])) - {""}
    keys = {(client_id, s) for s in sessions}

    def earlier_import(old: pd.DataFrame) -> pd.Series:
        return (old["import_format"].str.strip() == fmt) & keyed(old, ("client_id", "date"), keys)

    with folder_lock(folder):
        warnings = _duplicate_check(sessions_path, export, client_id, allow_duplicate)
        placed = place_exercises(built.sets["exercise"], studio_catalog(folder))
        own = built.sets["modality"] != ""
        by_app = _by_app_category(built, placed["modality"].isna() & ~own)
        sets.loc[by_app.index, "modality"] = by_app
        replaced_sets = replace_rows(sessions_path, sets, earlier_import, REQUIRED_COLUMNS["sessions"])
        replaced_ledger = write_ledger(folder, ledger, fmt, keys, export.sha256, client_id)
    modality = built.sets["modality"].where(own, placed["modality"]).fillna(by_app)
    by_category = pd.DataFrame(
        {"exercise": built.sets.loc[by_app.index, "exercise"], "category": built.categories[by_app.index], "modality": by_app}
    )
    unplaced = built.sets.loc[modality.isna(), "exercise"].value_counts()
    by_rule = placed[~own & (placed["placed_by"] == "rule")]
    return ImportResult(
        export=export,
        client_id=client_id,
        sessions_path=sessions_path,
        ledger_path=ledger_path,
        replaced_sets=replaced_sets,
        replaced_ledger=replaced_ledger,
        placed=int(modality.notna().sum()),
        unplaced=unplaced,
        by_rule=by_rule.groupby("exercise", sort=False)["reason"].agg(["first", "size"]).rename(columns={"first": "reason", "size": "sets"}),
        warnings=warnings,
        by_category=by_category.groupby("exercise", sort=False).agg(
            category=("category", "first"), modality=("modality", "first"), sets=("modality", "size")
        ),
    )


def _by_app_category(built: BuiltSets, unplaced: pd.Series) -> pd.Series:
    """The modality the app's own category gives to each set row no catalog places (only those rows)."""
    if built.categories is None or not len(built.categories):
        return pd.Series(dtype=object)
    given = category_modalities(built.categories.set_axis(built.sets.index))
    return given[unplaced & (given != "")]


def _duplicate_check(sessions_path: Path, export: AppExport, client_id: str, allow: bool) -> list[str]:
    """Refuse (or, allowed, warn about) an export whose bytes were already imported for another client."""
    existing = read_rows(sessions_path)
    if existing is None or "import_sha256" not in existing:
        return []
    of_file = existing["import_sha256"].str.strip() == export.sha256
    clients = existing["client_id"].str.strip()
    same = existing[of_file & (clients != client_id)]
    if same.empty or (of_file & (clients == client_id)).any():  # a re-import for a client who has it already
        return []
    others = sorted(set(same["client_id"].str.strip()))
    listed = ", ".join(repr(o) for o in others)
    message = (
        f"{export.path.name} was already imported for client {listed} ({len(same)} sets): the same export under "
        f"client {client_id!r} would count every set twice"
    )
    if not allow:
        raise DataError(f"{message}; check --client-id, or pass --allow-duplicate if both clients really did these sessions")
    return [f"warning: {message} (imported anyway: --allow-duplicate)"]
