"""The exercise catalog: data files, name matching, coach-correct modalities, real app names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backpain_analysis import catalog
from backpain_analysis.catalog import builtin_catalog, classify_exercises, exercise_key, normalize_exercise_name
from backpain_analysis.contract import MODALITIES

DATA = Path(__file__).parent / "data" / "loading"

SIMULATOR_NAMES = {
    "plank": "core",
    "side plank": "core",
    "glute bridge": "core",
    "bird dog": "core",
    "dead bug": "core",
    "crunch": "core",
    "seated cable row": "back",
    "pull-up": "back",
    "lat pulldown": "back",
    "back extension": "back",
    "superman": "back",
    "deadlift": "back",
    "hamstring stretch": "flexibility",
    "hip flexor stretch": "flexibility",
    "piriformis stretch": "flexibility",
    "child's pose": "flexibility",
    "cat-cow": "flexibility",
    "knee-to-chest stretch": "flexibility",
    "yoga": "mixed",
    "pilates": "mixed",
    "walking": "other",
    "cycling": "other",
    "squat": "other_strength",
    "leg press": "other_strength",
}


def classify(*names: str, studio: pd.DataFrame | None = None) -> list[object]:
    return classify_exercises(pd.Series(names), studio).tolist()


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Pull Up (Assisted)", "pull up"),
        ("Row (Machine)", "row"),
        ("Bench Press (Barbell) (Paused)", "bench press"),
        ("(Plank)", "plank"),
        ("Child's Pose", "child pose"),
        ("CHILD\u2019S POSE", "child pose"),
        ("cat-cows", "cat cow"),
        ("  Hip_Flexor   Stretches ", "hip flexor stretch"),
        ("Dumbbell Flies", "dumbbell fly"),
        ("Bench Presses", "bench press"),
        ("Crunches", "crunch"),
        ("Lunges", "lunge"),
        ("Calves stretch", "calf stretch"),
        ("Abs", "ab"),
        ("Sit-ups", "sit up"),
    ],
)
def test_normalize_exercise_name(raw: str, normalised: str) -> None:
    assert normalize_exercise_name(raw) == normalised


def test_spaces_are_ignored_in_matching() -> None:
    assert exercise_key("Pull Up") == exercise_key("pullups") == exercise_key("PULL-UP (Band)") == "pullup"


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=40))
@settings(max_examples=200, deadline=None)
def test_normalisation_is_idempotent(name: str) -> None:
    once = normalize_exercise_name(name)
    assert normalize_exercise_name(once) == once


@pytest.mark.parametrize(("name", "modality"), sorted(SIMULATOR_NAMES.items()))
def test_simulator_names_are_in_the_catalog(name: str, modality: str) -> None:
    assert classify(name) == [modality]


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Back Squat", "other_strength"),
        ("Squat (Barbell)", "other_strength"),
        ("Glute Bridge", "core"),
        ("Romanian Deadlift (Dumbbell)", "back"),
        ("Hip Thrust (Barbell)", "core"),
        ("Seated Row", "back"),
        ("Row (Machine)", "back"),
        ("Rowing (Machine)", "other"),
        ("Upright Row (Barbell)", "other_strength"),
        ("Running", "other"),
        ("Reformer Pilates", "mixed"),
        ("Good Morning (Barbell)", "back"),
        ("Face Pull (Cable)", "back"),
        ("Prone Press-Up", "flexibility"),
        ("Press-Up", "other_strength"),
        ("Leg Curl (Machine)", "other_strength"),
        ("Foam Rolling", "flexibility"),
        ("Seated Cable Row - V Grip (Cable)", "back"),
        ("Lat Pulldown - Close Grip (Cable)", "back"),
    ],
)
def test_coach_decisions(name: str, modality: str) -> None:
    assert classify(name) == [modality]


def test_unknown_names_are_missing() -> None:
    result = classify_exercises(pd.Series(["Jefferson curl", None, "plank"], index=[7, 8, 9]))
    assert list(result.index) == [7, 8, 9]
    assert result.isna().tolist() == [True, True, False]


def test_studio_catalog_adds_and_overrides() -> None:
    studio = pd.DataFrame({"exercise": ["Jefferson Curl", "PLANKS"], "modality": ["back", "mixed"]})
    assert classify("jefferson curls", "Plank", "side plank", studio=studio) == ["back", "mixed", "core"]


def test_builtin_files_are_valid_and_consistent() -> None:
    table = builtin_catalog()
    assert list(table.columns) == [*catalog.CATALOG_COLUMNS, "file"]
    assert table["modality"].isin(MODALITIES).all()
    assert (table["exercise"].str.strip() != "").all()
    assert (table["source"].str.strip() != "").all()
    keys = table.assign(key=table["exercise"].map(exercise_key))
    conflicts = keys.groupby("key")["modality"].nunique()
    assert conflicts[conflicts > 1].empty, keys[keys["key"].isin(conflicts[conflicts > 1].index)]
    assert table["file"].iloc[0] == "catalog.csv"


def test_every_modality_is_represented() -> None:
    assert set(builtin_catalog()["modality"]) == set(MODALITIES)


def _plural(name: str) -> str:
    """``name`` with its last word in the plural (English rules; words already ending in s or i kept)."""
    *first, word = normalize_exercise_name(name).split()
    if word.endswith(("s", "i")):
        plural = word
    elif word.endswith(("x", "ch", "sh")):
        plural = word + "es"
    elif word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        plural = word[:-1] + "ies"
    else:
        plural = word + "s"
    return " ".join([*first, plural])


def test_every_builtin_name_survives_spelling_variants() -> None:
    table = builtin_catalog().drop_duplicates("exercise")
    names = table["exercise"]
    expected = table["modality"].tolist()
    for variant in (
        names.str.upper(),
        names.str.replace(" ", "-"),
        names.str.replace(" ", "_").str.title(),
        names + " (Dumbbell)",
        names.map(_plural),
    ):
        assert classify_exercises(variant).fillna("unknown").tolist() == expected


def test_missing_app_file_is_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "BUILTIN_FILES", ("catalog.csv", "no_such_catalog_apps.csv"))
    catalog._builtin.cache_clear()
    try:
        assert set(builtin_catalog()["file"]) == {"catalog.csv"}
        assert classify("plank") == ["core"]
    finally:
        catalog._builtin.cache_clear()


def test_real_export_names_map() -> None:
    """Share of set rows of the real Strong and Hevy exports (../shared/real-exports) whose exercise maps.

    ``real_export_names.csv`` holds each export's distinct exercise names with
    their number of set rows.
    """
    names = pd.read_csv(DATA / "real_export_names.csv")
    names["mapped"] = classify_exercises(names["exercise"]).notna()
    share = names.groupby("app").apply(lambda g: (g["set_rows"] * g["mapped"]).sum() / g["set_rows"].sum(), include_groups=False)
    assert share["hevy"] >= 0.99, names[~names["mapped"]]
    assert share["strong"] >= 0.99, names[~names["mapped"]]


# --- Names by structure (issue 13 items 1-2) ----------------------------------------------------

ISSUE_NAMES = {
    # the names the issue found unknown, with the modality a coach gives them
    "Barbell Decline Bench Press": "other_strength",
    "Single Leg Kickback": "other_strength",
    "Dumbbell Rear Delt Raise": "back",
    "V-Bar Pulldown": "back",
    "Barbell Glute Bridge": "core",
    "Elevated Hip Bridge": "core",
    "Stiff-Legged Barbell Good Morning": "back",
    "Reverse Grip Barbell Bent Over Row": "back",
    "Tuck Crunch": "core",
    "Plank Jack": "core",
    "Side Plank Lift": "core",
    "Standing Barbell Calf Raise": "other_strength",
    "Triceps Overhead Cable": "other_strength",
    "EZ Bar Strict Bicep Curl": "other_strength",
    "Seated Incline Hammer Curl (Dumbbell)": "other_strength",
    "Paused Bench Press": "other_strength",
    "Iso-Lateral Low Row": "back",
    "Pause Squat (Barbell)": "other_strength",
    "Bench Press (Barbell) [paused 2s]": "other_strength",
    "Tempo Romanian Deadlift {3-1-1}": "back",
    # session 2: names of the new tuned exports that motivated rules (machine brands, fit balls,
    # one-hand stances, interval protocols, back fly, scaption, kettlebell long cycle)
    "Hammerstrength Iso Row": "back",
    "Hammerstrength Incline Chest Press": "other_strength",
    "Plank Fitball": "core",
    "Kettlebell Swing One Hand": "back",
    "Tabata Plank Dynamic": "core",
    "Plank Mix": "core",
    "Dumbbell Back Fly": "back",
    "Superman with Scaption": "back",
    "KB One Arm Long Cycle 30''": "other_strength",
}


@pytest.mark.parametrize(("name", "modality"), sorted(ISSUE_NAMES.items()))
def test_names_read_by_structure(name: str, modality: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule"), placed.reason
    assert placed.reason.startswith(f"{name!r} -> {modality}: ")


def test_back_pain_rules_win_over_muscles() -> None:
    """free-exercise-db lists glutes for a barbell glute bridge and hamstrings for a good morning."""
    reference = catalog._reference().set_index("exercise")
    for name, modality in [("Barbell Glute Bridge", "core"), ("Barbell Hip Thrust", "core"), ("Good Morning", "back"), ("Romanian Deadlift", "back")]:
        assert reference.loc[name, "modality"] == modality
        assert "would say other_strength" in reference.loc[name, "note"]
    assert "back-pain rule 'glute bridge'" in catalog.explain_exercise("Smith Machine Glute Bridge").rule
    assert "back-pain rule 'good morning'" in catalog.explain_exercise("Seated Good Morning (Barbell)").rule


def test_exact_entries_and_the_studio_catalog_win() -> None:
    assert catalog.explain_exercise("Glute Bridge").placed_by == "exact"
    studio = pd.DataFrame({"exercise": ["barbell glute bridges"], "modality": ["other_strength"]})
    placed = catalog.explain_exercise("Barbell Glute Bridge", studio)
    assert (placed.modality, placed.placed_by) == ("other_strength", "studio")
    assert classify("Barbell Glute Bridge", "Plank Jack", studio=studio) == ["other_strength", "core"]


def test_an_unknown_word_leaves_the_name_unknown_with_suggestions() -> None:
    """'Jefferson curl' is the contract's example of an unknown exercise: 'curl' alone must not place it."""
    placed = catalog.explain_exercise("Jefferson curl")
    assert placed.modality is None and placed.placed_by is None
    assert placed.reason.startswith("unknown exercise 'Jefferson curl' - add it to catalog.csv or give a modality")
    typo = catalog.explain_exercise("Romainan Daedlfit")  # two slips in each word: too far to mend
    assert typo.modality is None and "did you mean 'romanian deadlift'" in typo.reason
    assert catalog.explain_exercise("Barbell").modality is None  # equipment alone is no exercise
    both = catalog.explain_exercise("Zercher carry walk")  # a carry is core, a walk other: a coach decides
    assert both.modality is None and "it reads as 'carry' (core) and 'walk' (other)" in both.reason


def test_place_exercises_columns() -> None:
    names = pd.Series(["Plank", "Barbell Glute Bridge", "Blorp", None, "Plank"], index=[5, 6, 7, 8, 9])
    placed = catalog.place_exercises(names)
    assert list(placed.columns) == ["exercise", "modality", "placed_by", "reason"]
    assert list(placed.index) == [5, 6, 7, 8, 9]
    assert placed["placed_by"].fillna("unknown").tolist() == ["exact", "rule", "unknown", "unknown", "exact"]
    assert placed.loc[7, "reason"].startswith("unknown exercise 'Blorp'")


def test_rule_data_is_valid_and_agrees_with_the_catalog() -> None:
    moves = catalog._read_data(catalog.MOVEMENTS_FILE, ("movement", "modality", "kind", "source", "note"))
    assert moves["modality"].isin(MODALITIES).all() and moves["kind"].isin(["back-pain rule", "movement", "muscle"]).all()
    assert (moves["source"].str.strip() != "").all()
    exact = builtin_catalog().assign(key=lambda f: f["exercise"].map(exercise_key)).drop_duplicates("key").set_index("key")["modality"]
    keys = moves["movement"].map(exercise_key)
    shared = keys.isin(exact.index)
    assert (moves.loc[shared, "modality"].to_numpy() == exact[keys[shared]].to_numpy()).all()
    modifiers = catalog._read_data(catalog.MODIFIERS_FILE, ("modifier", "kind"))
    assert modifiers["kind"].isin(["equipment", "stance", "grip", "tempo", "word", "bookkeeping"]).all()
    assert not set(modifiers["modifier"].map(exercise_key)) & set(keys)


REFERENCE_CSV = Path("/work/shared/exercise-reference/free-exercise-db.csv")


@pytest.mark.skipif(not REFERENCE_CSV.is_file(), reason="free-exercise-db.csv not present")
def test_reference_file_is_what_the_derivation_gives() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("derive", Path(__file__).parents[1] / "scripts" / "derive_catalog_reference.py")
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    derived = derive.derive(pd.read_csv(REFERENCE_CSV, dtype=str, keep_default_na=False))
    shipped = catalog._reference()
    pd.testing.assert_frame_equal(derived.reset_index(drop=True), shipped.reset_index(drop=True))
    assert len(shipped) == 873 and shipped["modality"].isin(MODALITIES).all()


@pytest.mark.parametrize(
    ("name", "modality", "slip"),
    [
        ("Goblet Squad", "other_strength", "read 'squad' as 'squat'"),  # a letter wrong
        ("Hamme Hip Thrust (Machine)", "core", "read 'hamme' as 'hammer'"),  # a letter missing (a real Hevy name)
        ("Romanian Deadliftt", "back", "read 'deadliftt' as 'deadlift'"),  # a letter extra
        ("Bulgarain Split Squat", "other_strength", "read 'bulgarain' as 'bulgarian'"),  # two letters swapped
    ],
)
def test_a_one_letter_slip_is_mended_and_said(name: str, modality: str, slip: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and slip in placed.rule


def test_slips_in_short_words_or_two_slips_in_a_word_are_not_mended() -> None:
    assert catalog.explain_exercise("Jefferson Curl").modality is None  # an unknown word, not a slip
    assert catalog.explain_exercise("Romainan Daedlfit").modality is None  # two slips per word
    assert catalog._respell(["plnk"]) == (["plnk"], [])  # four letters: too short to mend


@pytest.mark.parametrize(
    ("name", "modality", "reading"),
    [
        ("Bent Over Dumbel Row", "back", "read 'dumbel' as 'dumbbell'"),  # two letters short: beyond the one-slip mend
        ("Peck Deck", "other_strength", "read 'peck' as 'pec'"),  # a short word the slip mend leaves alone
        ("Calve Raise", "other_strength", "read 'calve' as 'calf'"),
        ("Zotterman Curls", "other_strength", "read 'zotterman' as 'zottman'"),
    ],
)
def test_listed_misspellings_are_mended_and_said(name: str, modality: str, reading: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and reading in placed.rule


def test_the_misspellings_list_reads_to_known_words() -> None:
    spellings = catalog._spellings()
    assert {"dumbel", "peck", "calve"} <= set(spellings)
    known = catalog._vocabulary() | {w for entry in catalog._phrases().values() for w in entry.phrase.split()}  # with the database's names
    assert set(spellings.values()) <= known
    assert not set(spellings) & set(catalog._vocabulary())  # a listed misspelling is never a known word


@pytest.mark.parametrize(
    ("name", "modality", "short"),
    [
        ("Overhead Squat Ohs", "other_strength", "'Ohs'"),  # O(ver)H(ead) S(quat)
        ("Clean And Jerk Cnj", "other_strength", "'Cnj'"),  # C(lea)N(d) J(erk)
        ("Good Morning Gm", "back", "'Gm'"),
        ("Hang Power Clean Hpc", "other_strength", "'Hpc'"),
        ("Bench Press Bp", "other_strength", "'Bp'"),
    ],
)
def test_a_trailing_abbreviation_of_the_name_is_set_aside(name: str, modality: str, short: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule")
    assert f"the last word {short} abbreviates the words before it" in placed.rule


def test_a_last_word_that_does_not_abbreviate_the_name_is_not_set_aside() -> None:
    assert catalog.explain_exercise("Bench Press Xyz").modality is None  # not its initials
    assert catalog.explain_exercise("Press Pxq").modality is None  # one word before it: too little to abbreviate
    assert not catalog._is_abbreviation("sb", ["bench", "press"])  # must start with the name's initial


@pytest.mark.parametrize(
    ("name", "bare"),
    [("03-Swing", "Swing"), ("12. Chest Press", "Chest Press"), ("#4 Lat Pulldown", "Lat Pulldown"), ("20-Arm Rotation", "Arm Rotation"), ("7) Plank", "Plank")],
)
def test_a_list_number_before_a_name_is_set_aside(name: str, bare: str) -> None:
    """An owner's list numbers (``12-Chest Press``, a real FitNotes export) do not change a placement."""
    assert catalog.explain_exercise(name).modality == catalog.explain_exercise(bare).modality is not None


@pytest.mark.parametrize(
    ("name", "modality"),
    [("03-High Knees", "other"), ("Butt Kicks", "other"), ("Skaters", "other"), ("Jumping Jacks", "other"), ("Mountain Climbers", "core")],
)
def test_conditioning_drills_follow_the_catalog_convention(name: str, modality: str) -> None:
    """High knees, butt kicks and skaters are conditioning (``other``) like jumping jacks; the database's
    'knee' stretch must not make high knees flexibility. Mountain climbers stay core (catalog.csv)."""
    assert catalog.explain_exercise(name).modality == modality


@pytest.mark.parametrize(
    ("name", "modality"),
    [("Bench Press 3x10", "other_strength"), ("Plank x3", "core"), ("Bench Press @ RPE 8", "other_strength"), ("Wall Sit 45 sec", "other_strength")],
)
def test_set_notations_in_a_name_are_set_aside(name: str, modality: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule")
    assert catalog.explain_exercise("Jefferson Curl 3x10").modality is None  # a notation does not make an unknown word known


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("A1 Bench Press", "other_strength"),  # a superset label
        ("Warm-up Squat", "other_strength"),  # a warm-up set of a squat is a squat
        ("Warm Up Walk", "other"),
        ("Safety Bar Squat", "other_strength"),
        ("OHP (Barbell)", "other_strength"),
        ("SLDL", "back"),  # the back-pain rule for hinges, abbreviated
        ("Back Off Squat", "other_strength"),  # a back-off set, not a back exercise
    ],
)
def test_general_lifter_vocabulary(name: str, modality: str) -> None:
    assert catalog.explain_exercise(name).modality == modality


def test_a_modifier_phrase_places_a_name_only_when_nothing_else_can() -> None:
    assert catalog.explain_exercise("Warm up 5 min").modality == "other"  # warm up is all there is
    assert "'squat'" in catalog.explain_exercise("Warm-up Squat").rule


@pytest.mark.parametrize(
    ("name", "modality", "why"),
    [
        ("Squat Stretch", "flexibility", "the last phrase of a compound name is its head"),  # was a squat
        ("Lunge Stretch", "flexibility", "the last phrase of a compound name is its head"),
        ("Downward Dog Push Up", "other_strength", "the last phrase of a compound name is its head"),  # was ambiguous
        ("Push Up to Downward Dog", "other_strength", "a flow between a pose and a movement is the movement"),
        ("Plank to Downward Dog", "core", "a flow between a pose and a movement is the movement"),
        ("Clean From The Hang Position", "other_strength", "what follows 'from' is the starting position"),
    ],
)
def test_a_stretch_or_pose_and_a_strength_movement_in_one_name_is_read_by_its_head(name: str, modality: str, why: str) -> None:
    """Session 4: a flexibility phrase beside a strength movement is not a tie for a coach but a compound."""
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and why in placed.rule


def test_head_rule_leaves_other_ties_to_a_coach() -> None:
    assert catalog.explain_exercise("Zercher carry walk").modality is None  # core against other: no stretch involved
    assert catalog.explain_exercise("Kettlebell Hang Clean").modality == "other_strength"


@pytest.mark.parametrize(
    ("name", "modality", "rule"),
    [
        ("Topside Deadlift", "back", "read 'topside' as 'top side'"),  # two known words written as one
        ("Undergrip Chinning", "back", "movement rule 'chinning'"),
        ("Walkout", "core", "movement rule 'walkout'"),
        ("Straight-Arm Cable Pushdown", "back", "movement rule 'straight arm pushdown'"),
        ("Loop Band Leg Extension", "other_strength", "'leg extension'"),
        ("Incline Dumbbell Squeeze Press", "other_strength", "'press'"),
        ("Deep Squat Stretch", "flexibility", "'stretch'"),
        ("Cable Low To High", "other_strength", "'low to high'"),  # a direction alone is the cable fly
        ("Cable Woodchop High to Low", "core", "woodchop'"),  # beside a movement it is only a modifier
        ("Spider Hammer", "other_strength", "movement rule 'hammer'"),  # hammers named alone are hammer curls
        ("Hammer Strength Row", "back", "'row'"),  # beside a movement Hammer is the machine brand
        ("Bent-Over Lateral Raise (Dumbbell)", "back", "movement rule 'bent over lateral raise'"),  # the rear-delt raise
    ],
)
def test_session_4_rules(name: str, modality: str, rule: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and rule in placed.rule, placed.reason


def test_a_word_is_split_only_into_two_known_words_of_three_letters_or_more() -> None:
    vocabulary = catalog._vocabulary()
    assert catalog._split("topside", vocabulary) == ["top", "side"]
    assert catalog._split("jefferson", vocabulary) is None
    assert catalog.explain_exercise("Jefferson Curl").modality is None


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Close Grip Bench", "other_strength"),  # 'bench' named alone is the bench press
        ("Bench Dip", "other_strength"),  # beside a movement it is the bench used
        ("Hip Hinge", "back"),  # the hinge pattern, back like every hinge
        ("Log Press", "other_strength"),
        ("Curtsy Lunge", "other_strength"),
        ("Step Downs", "other_strength"),
        ("Prowler Push", "other_strength"),
        ("Farmer Hold", "core"),  # a loaded carry held still
        ("Kettlebell One Arm Static Hold", "core"),  # 'hold' named alone with a load: a carry held still
        ("Wall Sit Hold", "other_strength"),  # beside a movement it is that movement held
        ("Yoga Flow", "mixed"),
        ("Landmine 180", "core"),
    ],
)
def test_lifter_usage_of_session_4(name: str, modality: str) -> None:
    assert catalog.explain_exercise(name).modality == modality


def test_a_mended_word_may_not_overturn_what_the_rest_of_the_name_says() -> None:
    """'viking' is one letter from 'hiking' (a walk, other), but the rest of 'Viking Press' reads as a press."""
    placed = catalog.explain_exercise("Viking Press")
    assert placed.modality is None and "only by reading 'viking' as 'hiking'" in placed.reason
    assert catalog.explain_exercise("Goblet Squad").modality == "other_strength"  # a mended word completes a reading
    assert catalog.explain_exercise("Hamme Hip Thrust (Machine)").modality == "core"  # or qualifies it


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Levator Scapulae Stretch", "flexibility"),  # any muscle's stretch
        ("Tree Pose", "flexibility"),  # any yoga pose
        ("Restorative Yoga", "mixed"),
        ("Clinical Pilates", "mixed"),
        ("Warrior II", "flexibility"),
        ("The Hundred", "core"),  # Pilates mat repertoire
        ("Single Leg Stretch", "core"),  # the Pilates abdominal series, not a stretch
        ("McKenzie Press Up", "flexibility"),  # extension in lying, not a push-up
        ("Standing Forward Bend", "flexibility"),
        ("Chin Tuck", "other_strength"),  # deep neck flexors, not a chin-up
        ("Mini Band Walk", "other_strength"),  # hip abductors, not a walk
        ("Drawing In Maneuver", "core"),
        ("Heel Slides", "core"),
        ("Scapular Retraction", "back"),
        ("Prone Y", "back"),
        ("Physio Ball Pike", "core"),
        ("Push Up on Knees", "other_strength"),  # a free-exercise-db name ('knee') never names the exercise
        ("TRX Y Fly", "back"),  # arms opened into a Y: lower trapezius, as prone Y raises
        ("W Raise", "back"),
        ("Side Plank Reach Through", "core"),
    ],
)
def test_back_pain_programme_vocabulary(name: str, modality: str) -> None:
    """Session 4: stretches, poses, Pilates mat work and rehabilitation drills a back-pain studio logs."""
    assert catalog.explain_exercise(name).modality == modality


def test_a_decisive_last_word_does_not_make_other_unknown_words_known() -> None:
    assert catalog.explain_exercise("Jefferson Curl").modality is None
    assert "ends the name and names the exercise" in catalog.explain_exercise("Blorp Stretch").rule


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Rosca direta com barra", "other_strength"),
        ("Supino inclinado com halteres", "other_strength"),
        ("Remada curvada", "back"),
        ("Levantamento terra", "back"),  # deadlift: the back-pain rule in Portuguese
        ("Elevação pélvica", "core"),  # hip thrust: a loaded bridge
        ("Stiff com halteres", "back"),
        ("Sentadilla con barra", "other_strength"),
        ("Peso muerto rumano", "back"),
        ("Jalón al pecho", "back"),
        ("Plancha", "core"),
    ],
)
def test_portuguese_and_spanish_exercise_words(name: str, modality: str) -> None:
    """Hevy and Strong users name custom exercises in their own language (as the German words of session 3)."""
    assert catalog.explain_exercise(name).modality == modality


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Cable Core Palloff Press", "core"),  # the mended 'pallof' completes 'pallof press', which holds the rest's 'press'
        ("Half Kneeling Palloff Press", "core"),
        ("Band Palof Press", "core"),
        ("Viking Press", None),  # 'hiking' holds no 'press': the mend would overturn the rest
        ("Goblet Squad", "other_strength"),
        ("Hamme Hip Thrust (Machine)", "core"),
        ("Squat Stretch", "flexibility"),  # compound names keep their head
        ("Downward Dog Push Up", "other_strength"),
        ("Push Up to Downward Dog", "other_strength"),
        ("Plank to Downward Dog", "core"),
        ("Clean From The Hang Position", "other_strength"),
        ("Hammer Hip Thrust", "core"),
        ("Bench Dip", "other_strength"),
        ("Topside Deadlift", "back"),
    ],
)
def test_a_mend_that_completes_a_phrase_holding_the_rest_is_kept(name: str, modality: str | None) -> None:
    """Regression (session 4b): 'Cable Core Palloff Press' was placed until the mend check of session 4
    compared the mended reading with the rest's 'press' instead of seeing that it holds it."""
    assert catalog.explain_exercise(name).modality == modality


@pytest.mark.parametrize(
    ("name", "modality", "words"),
    [("Squat Copy", "other_strength", "'copy'"), ("Lat Pulldown Test", "back", "'test'"), ("Romanian Deadlift OLD", "back", "'old'"), ("New Hip Thrust", "core", "'new'")],
)
def test_bookkeeping_words_are_set_aside_and_named_for_review(name: str, modality: str, words: str) -> None:
    placed = catalog.explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule")
    assert f"the user's bookkeeping words {words} set aside: review it" in placed.rule


def test_a_bookkeeping_word_alone_places_nothing() -> None:
    assert [catalog.explain_exercise(n).modality for n in ("Backup", "Old", "Test", "Zzzdump2")] == [None] * 4


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Cybex Leg Extension", "other_strength"),
        ("Life Fitness Chest Press", "other_strength"),
        ("Nautilus Pullover", "back"),
        ("Precor Seated Row", "back"),
        ("Technogym Back Extension", "back"),
        ("Keiser Hip Thrust", "core"),
    ],
)
def test_gym_machine_brands_are_equipment(name: str, modality: str) -> None:
    placed = catalog.explain_exercise(name)
    assert placed.modality == modality and placed.modifiers and placed.modifiers[0] in {"cybex", "life fitness", "nautilus", "precor", "technogym", "keiser"}


@pytest.mark.parametrize(
    ("name", "modality", "phrase"),
    [
        ("Dumbbell Incline", "other_strength", "incline"),  # named alone with its equipment: the incline bench press
        ("Barbell Decline", "other_strength", "decline"),
        ("Incline Curl", "other_strength", "incline curl"),  # beside a movement: a modifier
        ("Decline Crunch", "core", "decline crunch"),
        ("Treadmill Incline", "other", "treadmill"),
    ],
)
def test_an_incline_named_alone_is_the_bench_press(name: str, modality: str, phrase: str) -> None:
    placed = catalog.explain_exercise(name)
    assert placed.modality == modality and f"'{phrase}' ->" in placed.rule


@pytest.mark.parametrize(
    ("name", "modality"),
    [("Bob Lat Pulldown", "back"), ("Frank Hip Thrust", "core"), ("Mario Pallof Press", "core"), ("Jefferson Curl", None), ("Bob Press", None), ("Frobnitz Bridge", None)],
)
def test_one_unknown_word_before_a_clear_head(name: str, modality: str | None) -> None:
    """A person's or a gym's name before a two-word catalog head that no longer known name places elsewhere; a
    single movement word (curl, press, bridge) is not clear enough: the unknown word might change it."""
    placed = catalog.explain_exercise(name)
    assert placed.modality == modality
    if modality is not None:
        assert placed.placed_by == "rule" and "is set aside (no known name ending in" in placed.rule and "review it" in placed.rule


def test_an_unknown_word_is_not_set_aside_when_it_could_change_the_modality() -> None:
    """'press' ends 'pallof press' (core): an unknown word before 'Shoulder Press' could not change it, before 'Press' it could."""
    assert catalog.explain_exercise("Arnold Shoulder Press").modality == "other_strength"
    assert catalog.explain_exercise("Frobnitz Press").modality is None
    assert catalog.explain_exercise("Frobnitz Bob Lat Pulldown").modality is None  # two unknown words


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("hinter Schultern", "other_strength"),
        ("Kurzhantel Schulterdrücken sitzend", "other_strength"),
        ("Latziehen eng", "back"),
        ("Unterarmstütz", "core"),
        ("Hüftheben mit Langhantel", "core"),
        ("Rückenstrecker", "back"),
        ("Rueckenstrecker", "back"),
        ("Beinbeuger sitzend", "other_strength"),
        ("Seitheben am Kabelzug", "other_strength"),
        ("Bauchpresse", "core"),
    ],
)
def test_german_muscles_movements_and_modifiers(name: str, modality: str) -> None:
    """German words beyond session 3's (muscles, machines, stances), with the back-pain rules in German."""
    assert catalog.explain_exercise(name).modality == modality


def test_a_hip_flexor_raise_is_not_the_hip_flexor_stretch() -> None:
    assert catalog.explain_exercise("Hip Flexor Raise (Banded)").modality == "core"
    assert catalog.explain_exercise("Hip Flexor Stretch").modality == "flexibility"
