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
the built-in catalog the first file and the first row listing a name win. A
name no exact entry lists is read by structure, as a movement plus modifiers
(:func:`explain_exercise`: ``data/catalog_movements.csv``,
``data/catalog_modifiers.csv`` and the free-exercise-db names in
``data/catalog_reference.csv``), with the back-pain literature's rules
winning over muscles. :func:`explain_exercise` says which entry or rule placed
a name; :func:`place_exercises` places many at once.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
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




# --- Names by structure -------------------------------------------------------------------------

MOVEMENTS_FILE = "catalog_movements.csv"
"""Movement words and phrases -> modality (``movement``, ``modality``, ``kind``, ``source``, ``note``).

``kind`` is ``back-pain rule`` (the back-pain literature's placement, which
wins over what the muscles would say: bridges and hip thrusts are core, good
mornings and Romanian deadlifts back), ``movement`` or ``muscle`` (a muscle
named without a movement, the weakest evidence)."""

MODIFIERS_FILE = "catalog_modifiers.csv"
"""Words that qualify a movement without changing its modality (``modifier``, ``kind``:
``equipment``, ``stance``, ``grip``, ``tempo``, ``word``, or ``bookkeeping``: a user's own marks on a
name such as ``old``, ``backup``, ``copy``, ``test``, which the rule names for review)."""

REFERENCE_FILE = "catalog_reference.csv"
WORDS_ZH_FILE = "catalog_words_zh.csv"
"""Chinese gym words, written without spaces, -> English words the matcher reads (``text,words,note``):
``哑铃平板卧推｜哑铃｜双边`` reads as ``dumbbell flat bench press | dumbbell | bilateral`` (the full-width bar
``｜`` separates like a bracket: its parts are modifiers)."""
SPELLINGS_FILE = "catalog_spellings.csv"
"""Common misspellings of gym words beyond the one-letter mend (``misspelling,word,note``): ``dumbel``."""
"""Exercise names of the public-domain free-exercise-db with a derived modality (see
``scripts/derive_catalog_reference.py``); columns as :data:`CATALOG_COLUMNS`."""

PLACED_BY: tuple[str, ...] = ("studio", "exact", "rule")
"""How a name was placed: the studio's own ``catalog`` table, an exact entry of the
built-in catalog, or a structural rule (:func:`explain_exercise`)."""

_TIER = {"back-pain rule": 5, "catalog.csv": 4, "catalog_apps.csv": 3, "movement": 2, "reference": 1, "muscle": 0}
_DEDUP = {**_TIER, "reference": -1}  # a database name never shadows the project's own phrase
_BRACKETS = re.compile(r"[(\[{][^()\[\]{}]*[)\]}]")
_DIGITS = re.compile(r"^(?:\d+[a-z]{0,3}|[a-z]|\d*x\d+|[a-z]\d+|ii|iii|iv)$")
"""Numbers (5s, 45, 1:00 -> 1 00, 3sec), single letters (V-bar, X crunch), set notations (3x10, x3),
superset labels (A1, B2) and Roman numerals II-IV (Warrior II)."""
_DECISIVE_HEADS = frozenset({"stretch", "pose", "yoga", "pilate"})
"""Last words that name the kind of exercise whatever words come before them: any muscle's stretch
(``Levator Scapulae Stretch``), any yoga pose (``Tree Pose``), any style of yoga or Pilates
(``Restorative Yoga``). Before other movements an unknown word still leaves the name unknown
(``Jefferson Curl``)."""


@dataclass(frozen=True)
class _Entry:
    """One known phrase: where it comes from and what it places."""

    phrase: str
    modality: str
    kind: str
    source: str
    note: str

    def describe(self) -> str:
        origin = {"back-pain rule": "back-pain rule", "movement": "movement rule", "muscle": "muscle named, no movement"}
        where = origin.get(self.kind) or (
            "free-exercise-db name" if self.kind == "reference" else f"built-in {self.kind} entry"
        )
        details = "; ".join(t for t in (self.source, self.note) if t)
        return f"{where} '{self.phrase}' -> {self.modality}" + (f" ({details})" if details else "")


@dataclass(frozen=True)
class ExercisePlacement:
    """Where an exercise name lands and why (:func:`explain_exercise`).

    Attributes
    ----------
    exercise:
        The name as given.
    modality:
        One of :data:`backpain_analysis.contract.MODALITIES`, or ``None`` when unknown.
    placed_by:
        ``studio``, ``exact``, ``rule`` (:data:`PLACED_BY`) or ``None``.
    rule:
        The entry or rule that decided, in words.
    modifiers:
        Modifier words read around the movement (``barbell``, ``seated``, ``paused``).
    suggestions:
        For an unknown name, the nearest known names (best first).
    """

    exercise: str
    modality: str | None
    placed_by: str | None
    rule: str
    modifiers: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """One sentence: the placement and the rule, or for an unknown name a reason that begins ``unknown exercise``."""
        if self.modality is None:
            hints = [self.rule] if self.rule.startswith("it reads as") else []
            hints += [f"did you mean {', '.join(repr(s) for s in self.suggestions)}?"] if self.suggestions else []
            hint = f" ({'; '.join(hints)})" if hints else ""
            return f"unknown exercise {self.exercise!r} - add it to catalog.csv or give a modality{hint}"
        words = f"; modifiers: {', '.join(self.modifiers)}" if self.modifiers else ""
        return f"{self.exercise!r} -> {self.modality}: {self.rule}{words}"


def _read_data(file_name: str, columns: Sequence[str]) -> pd.DataFrame:
    resource = resources.files("backpain_analysis") / "data" / file_name
    with resource.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"built-in catalog data {file_name} lacks column {missing[0]!r}")
    return frame


def _reference() -> pd.DataFrame:
    """:data:`REFERENCE_FILE`, empty when absent (as while deriving it)."""
    if not (resources.files("backpain_analysis") / "data" / REFERENCE_FILE).is_file():
        return pd.DataFrame(columns=list(CATALOG_COLUMNS))
    return _read_data(REFERENCE_FILE, CATALOG_COLUMNS)


@lru_cache(maxsize=1)
def _chinese_words() -> tuple[tuple[str, str], ...]:
    """:data:`WORDS_ZH_FILE` as (text, English words), longest text first (``平板支撑`` plank before ``平板`` flat)."""
    frame = _read_data(WORDS_ZH_FILE, ("text", "words", "note"))
    return tuple(sorted(zip(frame["text"], frame["words"], strict=True), key=lambda pair: -len(pair[0])))


def _translated(text: str, found: list[tuple[str, str]] | None = None) -> str:
    """``text`` with the Chinese gym words of :data:`WORDS_ZH_FILE` replaced by English words, each spaced apart
    (the pairs replaced are appended to ``found``)."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    for chinese, english in _chinese_words():
        if chinese in text:
            text = text.replace(chinese, f" {english} ")
            if found is not None:
                found.append((chinese, english))
    return text


def _words(text: str) -> list[str]:
    """Normalised words of a name with every bracketed note removed (``[paused]``, ``(Barbell)``);
    Chinese gym words read in English (:func:`_translated`)."""
    text = _translated(unicodedata.normalize("NFKC", str(text)).casefold())
    while (stripped := _BRACKETS.sub(" ", text)) != text:
        text = stripped
    return normalize_exercise_name(text).split()


@lru_cache(maxsize=1)
def _modifiers() -> dict[tuple[str, ...], str]:
    frame = _read_data(MODIFIERS_FILE, ("modifier", "kind"))
    table = {tuple(_words(m)): k for m, k in zip(frame["modifier"], frame["kind"], strict=True)}
    return dict(sorted(table.items(), key=lambda item: -len(item[0])))


@lru_cache(maxsize=1)
def _exact() -> dict[str, _Entry]:
    """The built-in catalog's entries by key; for a name listed twice the first row wins."""
    table: dict[str, _Entry] = {}
    for e, m, s, n, f in _builtin()[[*CATALOG_COLUMNS, "file"]].itertuples(index=False):
        table.setdefault(exercise_key(e), _Entry(normalize_exercise_name(e), m, f, s, n))
    return table


@lru_cache(maxsize=1)
def _phrases() -> dict[str, _Entry]:
    """Every known phrase by key (spaces removed); for a key listed twice the strongest tier is kept,
    a free-exercise-db name never replacing the project's own phrase (``Overhead Triceps``, a stretch,
    reads as the muscle word ``tricep`` and must not make every triceps exercise a stretch)."""
    entries = list(_exact().values())
    moves = _read_data(MOVEMENTS_FILE, ("movement", "modality", "kind", "source", "note"))
    entries += [_Entry(" ".join(_words(m)), mod, k, s, n) for m, mod, k, s, n in moves.itertuples(index=False)]
    reference = _reference()
    entries += [_Entry(" ".join(_core(_words(e))[0]), m, "reference", s, n) for e, m, s, n in reference[list(CATALOG_COLUMNS)].itertuples(index=False)]
    table: dict[str, _Entry] = {}
    for entry in entries:
        key = entry.phrase.replace(" ", "")
        if key and (key not in table or _DEDUP[entry.kind] > _DEDUP[table[key].kind]):
            table[key] = entry
    return table


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Words a name may carry besides its movement: modifiers and the words of the project's own entries."""
    words = {w for phrase in _modifiers() for w in phrase}
    words |= {w for e in _phrases().values() if e.kind != "reference" for w in e.phrase.split()}
    return frozenset(words)


def _core(words: list[str]) -> tuple[list[str], list[str]]:
    """``words`` without modifier phrases (longest first) and numbers; returns (core words, modifiers found)."""
    core: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(words):
        hit = next((m for m in _modifiers() if tuple(words[i : i + len(m)]) == m), None)
        if hit:
            found.append(" ".join(hit))
            i += len(hit)
        elif _DIGITS.match(words[i]):
            found.append(words[i])
            i += 1
        else:
            core.append(words[i])
            i += 1
    return core, found


def _best_span(words: list[str], skip: frozenset[tuple[str, ...]] = frozenset()) -> tuple[int, int, _Entry, list[_Entry]] | None:
    """The longest run of ``words`` that is a known phrase (ties: the strongest tier, then the first),
    with the other phrases of that length and tier that would place the name elsewhere (an ambiguous reading).
    Runs listed in ``skip`` are not considered."""
    table = _phrases()
    spans = []
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            entry = table.get("".join(words[i:j]))
            if entry is not None and tuple(words[i:j]) not in skip:
                spans.append(((j - i, _TIER[entry.kind], -i), i, j, entry))
    if not spans:
        return None
    rank, i, j, entry = max(spans, key=lambda span: span[0])
    rivals = [e for r, *_, e in spans if r[:2] == rank[:2] and e.modality != entry.modality]
    return i, j, entry, rivals


def _by_rule(words: list[str]) -> tuple[_Entry, list[str], str] | str | None:
    """The phrase that places a name read as movement + modifiers, if every other word is understood
    and no other movement of the same length places it elsewhere (then a sentence saying so); with the
    modifiers and a note when :func:`_head` chose between a stretch or pose and a strength movement."""
    core, modifiers = _core(words)
    vocabulary = _vocabulary()
    # a phrase that is also a modifier (warm up) places a name only when nothing else is left to place it
    skip = frozenset(_modifiers()) if core else frozenset()
    options = []
    for sequence in (core, words):  # on a tie the reading without modifiers wins
        span = _best_span(sequence, skip)
        if span is None:
            continue
        i, j, entry, rivals = span
        rest = sequence[:i] + sequence[j:]
        if all(w in vocabulary or _DIGITS.match(w) for w in rest):
            options.append(((j - i, _TIER[entry.kind]), entry, rivals))
    if not options:
        filler = _filler(core, skip)
        if filler is not None:
            entry, note = filler
            return entry, [m for m in modifiers if m.replace(" ", "") not in entry.phrase.replace(" ", "")], note
        last = _phrases().get(core[-1]) if core and core[-1] in _DECISIVE_HEADS else None
        if last is None:
            return None
        note = f"; '{last.phrase}' ends the name and names the exercise whatever words come before it"
        return last, [m for m in modifiers if m != last.phrase], note
    _, entry, rivals = max(options, key=lambda option: option[0])
    head, note = _head(words, skip), ""
    if head is not None:
        (entry, why), rivals = head, []
        note = f"; '{entry.phrase}' names the exercise ({why})"
    if rivals and _TIER[entry.kind] >= _TIER["movement"]:
        readings = " and ".join(f"'{e.phrase}' ({e.modality})" for e in [entry, *rivals])
        return f"it reads as {readings}"
    return entry, [m for m in modifiers if m.replace(" ", "") not in entry.phrase.replace(" ", "")], note


def _filler(core: list[str], skip: frozenset[tuple[str, ...]]) -> tuple[_Entry, str] | None:
    """A name whose one unknown word stands first, before a clear movement head (``James Grip Lat
    Pulldown``: a person's or a gym's name), read by the head; else ``None``.

    The head is what follows the unknown word and must end the name: an entry of the built-in catalog
    or a back-pain rule of two words or more (a single movement word is not clear enough: ``Jefferson
    Curl`` stays unknown, and ``London Bridges`` is a rope pull, not a hip bridge). The unknown word is set aside only when it cannot change the modality: no known
    phrase that ends in the head with words before it (``pallof press`` for ``press``) is placed
    elsewhere. The rule says which word was set aside, so the summary lists the name for review."""
    vocabulary = _vocabulary()
    unknown = [k for k, w in enumerate(core) if w not in vocabulary and not _DIGITS.match(w)]
    if unknown != [0] or len(core) < 2 or not core[0].isalpha() or len(core[0]) < 3:
        return None
    span = _best_span(core[1:], skip)
    if span is None:
        return None
    i, j, entry, rivals = span
    if j != len(core) - 1 or rivals or entry.kind not in ("back-pain rule", "catalog.csv", "catalog_apps.csv") or " " not in entry.phrase:
        return None
    tail = f" {entry.phrase}"
    if any(e.modality != entry.modality for e in _phrases().values() if e.phrase.endswith(tail)):
        return None
    return entry, f"; the unknown first word before the head '{entry.phrase}' is set aside (no known name ending in '{entry.phrase}' is placed elsewhere): review it"


_LINKS = frozenset({"to", "into"})
"""Words joining two movements done one after the other (``Push Up to Downward Dog``)."""


def _head(words: list[str], skip: frozenset[tuple[str, ...]]) -> tuple[_Entry, str] | None:
    """The phrase that names the exercise when a name holds a flexibility phrase (a stretch, a pose, a
    hang) and a strength movement (core, back, other_strength), else ``None``.

    The name is read as non-overlapping known phrases of the project's own data (longest first; muscles
    named without a movement are not movements, and a free-exercise-db name such as ``knee`` in ``Push
    Up on Knees`` is too weak to name the exercise). Two movements joined by ``to``/``into`` are a flow
    between positions: the strength movement is the work and the pose its start or end (``Push Up to Downward Dog`` is a
    push-up); what follows ``from`` is a starting position (``Clean From The Hang Position`` is a
    clean). Otherwise the last phrase is the head, as in any English compound (``Squat Stretch`` is a
    stretch held in a squat; ``Downward Dog Push Up`` a push-up from downward dog; ``Kettlebell Hang
    Clean`` a clean). Returns the phrase's entry and the reason in words."""
    table = _phrases()
    spans = []
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            entry = table.get("".join(words[i:j]))
            if entry is not None and entry.kind not in ("muscle", "reference") and tuple(words[i:j]) not in skip:
                spans.append(((j - i, _TIER[entry.kind], -i), i, j, entry))
    taken: list[tuple[int, int, _Entry]] = []
    used: set[int] = set()
    for _, i, j, entry in sorted(spans, key=lambda span: span[0], reverse=True):
        if used.isdisjoint(range(i, j)):
            taken.append((i, j, entry))
            used.update(range(i, j))
    taken.sort(key=lambda span: span[0])
    strength = {e.modality for *_, e in taken} & {"core", "back", "other_strength"}
    if not strength or "flexibility" not in {e.modality for *_, e in taken}:
        return None
    first, last = taken[0][1], taken[-1][0]
    if "from" in words[first:last]:
        return taken[0][2], "what follows 'from' is the starting position"
    if _LINKS & set(words[first:last]):
        work = [e for *_, e in taken if e.modality in strength]
        return (work[0], "a flow between a pose and a movement is the movement") if len(strength) == 1 else None
    return taken[-1][2], "the last phrase of a compound name is its head"


@lru_cache(maxsize=1)
def _spellings() -> dict[str, str]:
    """:data:`SPELLINGS_FILE` as ``{misspelling: word}``, both normalised as name words."""
    frame = _read_data(SPELLINGS_FILE, ("misspelling", "word", "note"))
    return {" ".join(_words(m)): " ".join(_words(w)) for m, w in zip(frame["misspelling"], frame["word"], strict=True)}


def _one_slip(word: str, known: str) -> bool:
    """Whether ``word`` is ``known`` with one slip: a letter wrong, missing or extra, or two
    neighbouring letters swapped (Damerau distance 1)."""
    if len(word) == len(known):
        diff = [i for i, (a, b) in enumerate(zip(word, known, strict=True)) if a != b]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == known[diff[1]] and word[diff[1]] == known[diff[0]])
    short, long_ = sorted((word, known), key=len)
    return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _split(word: str, vocabulary: frozenset[str]) -> list[str] | None:
    """``word`` as two known words of three letters or more written together (``topside`` -> ``top
    side``, ``legpress`` -> ``leg press``, ``bizepscurl`` -> ``bizep curl``: a part may be a known
    word's plural), when exactly one split fits."""
    def known(part: str) -> str | None:  # a plural first part too: German 'Bizepscurl' is 'bizeps curl'
        return part if part in vocabulary else next((s for s in (_singular(part),) if s in vocabulary), None)

    splits = [[a, b] for k in range(3, len(word) - 2) if (a := known(word[:k])) and (b := known(word[k:]))]
    return splits[0] if len(splits) == 1 else None


def _respell(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Words with a listed misspelling (:data:`SPELLINGS_FILE`: ``dumbel`` -> ``dumbbell``) or a
    one-letter slip mended: an unknown word of five letters or more that is one
    slip (:func:`_one_slip`) from exactly one known word of five letters or more (``squad`` ->
    ``squat``, ``hamme`` -> ``hammer``), else two known words written as one (:func:`_split`); returns
    the words and the (slip, reading) pairs mended. A word that is itself a known phrase
    (``pushdown``) is left as it is."""
    vocabulary = _vocabulary()
    phrases = _phrases()
    mended: list[tuple[str, str]] = []
    out: list[str] = []
    for word in words:
        if word in _spellings() and word not in vocabulary and word not in phrases:
            mended.append((word, _spellings()[word]))
            out.append(_spellings()[word])
            continue
        if len(word) >= 5 and word not in vocabulary and word not in phrases and not _DIGITS.match(word):
            near = [v for v in vocabulary if len(v) >= 5 and abs(len(v) - len(word)) <= 1 and _one_slip(word, v)]
            parts = None if near else _split(word, vocabulary)
            if len(near) == 1:
                mended.append((word, near[0]))
                word = near[0]
            elif parts:
                mended.append((word, " ".join(parts)))
                out.extend(parts)
                continue
        out.append(word)
    return out, mended


@lru_cache(maxsize=4096)
def _builtin_placement(name: str) -> ExercisePlacement:
    """Placement of one name by the built-in data only (exact entry, then rules)."""
    table = _exact()
    for key in (exercise_key(name), exercise_key(_VARIANT_SUFFIX.sub("", name.strip()))):
        entry = table.get(key)
        if entry is not None:
            return ExercisePlacement(name, entry.modality, "exact", entry.describe())
    words, respelled = _respell(_words(name))
    without_suffix, _ = _respell(_words(_VARIANT_SUFFIX.sub("", name.strip())))
    why = "no entry and no rule"
    for candidate in (words, without_suffix):
        found = _by_rule(candidate) if candidate else None
        if isinstance(found, str):
            why = found
        elif found:
            entry, modifiers, note = found
            contradiction = _mend_contradicts(name, respelled, entry)
            if contradiction:
                why = contradiction
                continue
            read = "".join(f"; read {old!r} as {new!r}" for old, new in respelled)
            kept = [m for m in modifiers if _modifiers().get(tuple(m.split())) == "bookkeeping"]
            read += f"; the user's bookkeeping words {', '.join(map(repr, kept))} set aside: review it" if kept else ""
            chinese: list[tuple[str, str]] = []
            _translated(unicodedata.normalize("NFKC", name).casefold(), chinese)
            read += "; read the Chinese words " + ", ".join(f"{zh!r} as {en!r}" for zh, en in chinese) if chinese else ""
            return ExercisePlacement(name, entry.modality, "rule", entry.describe() + note + read, tuple(modifiers))
    return _last_readings(name) or ExercisePlacement(name, None, None, why, suggestions=tuple(suggest_exercises(name)))


_CAPS_PREFIX = re.compile(r"^\s*([A-Z]{2,4})\s+(\S.*)$", re.DOTALL)
_PLACING_PHRASE = re.compile(r"'([^']*)' -> ")


def _last_readings(name: str) -> ExercisePlacement | None:
    """Two readings tried only when nothing else places a name, each named in the rule for review.

    1. The words inside its brackets, when the name outside them places nothing: an app user's
       translation or description (``Cable Overhead (Extensión De Triceps)``).
    2. An unknown prefix of 2-4 capital letters, written in capitals, before a name that places by a
       known phrase of two words or more (``AS Hack Squats``, ``AS Iso-Lateral Shoulder Press``): a gym's
       or a machine line's mark. A single movement word after it (``AB Curl``) is not clear enough, nor
       a rest that itself needed an unknown word set aside.
    3. A last word that abbreviates the name before it (:func:`_trailing_abbreviation`)."""
    if _BRACKETS.search(name):
        opened = _BRACKETS.sub(lambda m: f" {m.group(0)[1:-1]} ", name)
        placed = _builtin_placement(opened)
        if placed.modality is not None:
            note = "; read with the words inside its brackets (the name outside them places nothing): review it"
            return replace(placed, exercise=name, placed_by="rule", rule=placed.rule + note)
    abbreviated = _trailing_abbreviation(name)
    if abbreviated is not None:
        return abbreviated
    found = _CAPS_PREFIX.match(name)
    if found is None or found.group(1).casefold() in _vocabulary() or found.group(1).casefold() in _phrases():
        return None
    placed = _builtin_placement(found.group(2))
    phrase = _PLACING_PHRASE.search(placed.rule)
    if placed.modality is None or phrase is None or " " not in phrase.group(1) or "unknown first word" in placed.rule:
        return None
    note = f"; the unknown capital-letter prefix {found.group(1)!r} (a gym's or a machine line's mark?) is set aside: review it"
    return replace(placed, exercise=name, placed_by="rule", rule=placed.rule + note)


def _is_abbreviation(short: str, words: list[str]) -> bool:
    """Whether ``short`` abbreviates ``words``: it starts with the first word's initial and its
    other letters follow in order through the words (``ohs``: Overhead Squat; ``cnj``: Clean aNd Jerk)."""
    text = "".join(words)
    if not short or not text or short[0] != text[0]:
        return False
    position = 1
    for letter in short[1:]:
        position = text.find(letter, position) + 1
        if position == 0:
            return False
    return True


def _trailing_abbreviation(name: str) -> ExercisePlacement | None:
    """A name whose last word (2-5 letters, not a known word) abbreviates the two or more words before
    it, placed by those words (``Overhead Squat Ohs``, ``Clean And Jerk Cnj``): a lifter's shorthand."""
    words = _words(name)
    if len(words) < 3 or not 2 <= len(words[-1]) <= 5 or not words[-1].isalpha():
        return None
    last = words[-1]
    if last in _vocabulary() or last in _phrases() or last in _spellings() or not _is_abbreviation(last, words[:-1]):
        return None
    placed = _builtin_placement(" ".join(words[:-1]))
    if placed.modality is None:
        return None
    note = f"; the last word {name.split()[-1]!r} abbreviates the words before it and is set aside: review it"
    return replace(placed, exercise=name, placed_by="rule", rule=placed.rule + note)


def _mend_contradicts(name: str, respelled: list[tuple[str, str]], entry: _Entry) -> str:
    """A sentence when a mended word (:func:`_respell`) changes what the rest of the name says: the
    name without the mended words places it in another modality (``Viking Press``: ``viking`` is one
    letter from ``hiking``, but the rest reads as a press); else ``""``. A mended word may complete a
    reading (``Goblet Squad``; ``Cable Core Palloff Press``, whose mended phrase ``pallof press`` holds
    the rest's ``press``) or qualify it (``Hamme Hip Thrust``), never overturn it."""
    if not respelled:
        return ""
    mended = {old for old, _ in respelled}
    rest = [w for w in _words(name) if w not in mended]
    other = _by_rule(rest) if rest else None
    completes = isinstance(other, tuple) and f" {other[0].phrase} " in f" {entry.phrase} "  # 'pallof' + the rest's 'press'
    if isinstance(other, tuple) and other[0].modality != entry.modality and not completes:
        slips = ", ".join(f"{old!r} as {new!r}" for old, new in respelled)
        return f"it reads as '{entry.phrase}' ({entry.modality}) only by reading {slips}, and the rest reads as '{other[0].phrase}' ({other[0].modality})"
    return ""


@lru_cache(maxsize=1)
def _known_names() -> dict[str, str]:
    """Normalised name -> a display name, for suggestions."""
    names = {}
    for frame in (_builtin(), _reference()):
        for name in frame["exercise"]:
            names.setdefault(normalize_exercise_name(name), name)
    return names


def suggest_exercises(name: str, n: int = 3) -> list[str]:
    """The ``n`` known exercise names nearest to ``name`` (difflib ratio of normalised names, at least 0.6)."""
    known = _known_names()
    close = difflib.get_close_matches(normalize_exercise_name(name), list(known), n=n, cutoff=0.6)
    return [known[c] for c in close]


def _studio_table(studio_catalog: pd.DataFrame | None) -> dict[str, str]:
    if studio_catalog is None or not len(studio_catalog):
        return {}
    return dict(zip(studio_catalog["exercise"].map(exercise_key), studio_catalog["modality"], strict=True))


def _placement(name: str, studio: dict[str, str]) -> ExercisePlacement:
    for key in (exercise_key(name), exercise_key(_VARIANT_SUFFIX.sub("", name.strip()))):
        if key in studio:
            return ExercisePlacement(name, studio[key], "studio", f"the studio's catalog table lists it as {studio[key]}")
    return _builtin_placement(name)


def explain_exercise(name: str, studio_catalog: pd.DataFrame | None = None) -> ExercisePlacement:
    """Place one exercise name and say which entry or rule placed it.

    Precedence: the studio's ``catalog`` table (exact name); the built-in
    catalog's exact entries (``data/catalog.csv``, then
    ``data/catalog_apps.csv``); then the name read by structure, as a
    movement plus modifiers. Modifiers (:data:`MODIFIERS_FILE`: equipment
    such as barbell, cable, EZ bar; stance and grip such as seated, incline,
    single arm, reverse grip; tempo such as paused; numbers; any bracketed
    note) are set aside and the longest known phrase among the remaining
    words places the name: a built-in entry, a movement rule
    (:data:`MOVEMENTS_FILE`, where the back-pain literature's rules win over
    muscles: bridges and hip thrusts core, good mornings and Romanian
    deadlifts back), a free-exercise-db name (:data:`REFERENCE_FILE`) or,
    weakest, a muscle named without a movement. Equal lengths go to the
    stronger source in that order, except that two movements of equal length
    placing the name in different modalities (``Zercher carry walk``: a carry
    is core, a walk other) leave it unknown for a coach to decide. Every other word of the name must be
    understood (a modifier or a word of the project's own entries), so an
    unknown word (``Jefferson curl``) leaves the name unknown rather than
    guessed (a one-letter slip in a word of five letters or more, a letter
    wrong, missing, extra or swapped as ``squad`` for ``squat``, is mended
    when exactly one known word fits and the rest of the name does not say
    otherwise, and the rule says so; two known words written as one are
    split). A stretch or pose beside a strength movement is read by the
    name's head (:func:`_head`: the last phrase, or the movement of a
    ``to``/``into`` flow), and a name ending in ``stretch``, ``pose``,
    ``yoga`` or ``Pilates`` is that kind of exercise whatever words come
    before it. A user's bookkeeping words (``old``, ``backup``, ``copy``,
    ``test``) are set aside and named in the rule for review; one unknown
    first word before a clear two-word head (``James Grip Lat Pulldown``) is
    set aside when no known name ending in that head is placed elsewhere
    (:func:`_filler`). When nothing else places a name, the words inside its brackets are read
    (a translation: ``Cable Overhead (Extensión De Triceps)``), and an unknown prefix of 2-4 capital
    letters before a name placed by a phrase of two words or more is set aside (``AS Hack Squats``),
    both named for review (:func:`_last_readings`). Unknown names carry the nearest known names as suggestions.

    Parameters
    ----------
    name:
        An exercise name as logged.
    studio_catalog:
        Optional studio catalog (``exercise``, ``modality``; valid modalities).

    Returns
    -------
    ExercisePlacement
        ``.modality`` (``None`` when unknown), ``.placed_by``, ``.rule`` and
        ``.reason``, the sentence ``backpain catalog explain`` prints.
    """
    return _placement(str(name), _studio_table(studio_catalog))


def place_exercises(names: pd.Series, studio_catalog: pd.DataFrame | None = None) -> pd.DataFrame:
    """Place many exercise names (each distinct name once).

    Returns
    -------
    DataFrame
        Same index as ``names``; columns ``exercise``, ``modality`` (``pd.NA``
        when unknown), ``placed_by`` (``studio``, ``exact``, ``rule``, or
        ``pd.NA``) and ``reason`` (:attr:`ExercisePlacement.reason`).
    """
    studio = _studio_table(studio_catalog)
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    placements = [_placement(str(n), studio) for n in np.asarray(uniques, dtype=object)]
    columns = {
        "modality": [p.modality for p in placements],
        "placed_by": [p.placed_by for p in placements],
        "reason": [p.reason for p in placements],
    }
    result = {"exercise": names.astype(object)}
    for column, values in columns.items():
        taken = np.append(np.asarray(values, dtype=object), None)[codes]
        result[column] = pd.Series(taken, index=names.index, dtype=object).where(pd.notna(taken), pd.NA)
    return pd.DataFrame(result, index=names.index)


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
        Each distinct name is placed once (:func:`explain_exercise` says how).
    """
    return place_exercises(names, studio_catalog)["modality"]
