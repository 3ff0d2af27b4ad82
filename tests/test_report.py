"""The report: every notebook runs on a small simulated studio, output is complete, safe and reproducible.

The main build is a hostile studio: program names that are HTML and Markdown
attacks or TeX, a studio that is a script tag, a custom instrument with a
space in its name, and a dataset folder whose name holds an HTML tag. A
2-client build checks that little data is said in words, and a header-only
dataset that the report still runs. One more forced build checks byte-identity.
"""

import hashlib
import json
import os
import re
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from html.parser import HTMLParser

from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.narrative import signed
from backpain_analysis.notebook import Attempts, notebook_inputs
from backpain_analysis.report import NOTEBOOK_DIR, ReportError, build_report, notebook_paths
from backpain_analysis.simulate import simulate, write_study


HOSTILE_PROGRAMS = {
    "stretching_only": "<img src=x onerror=alert(1)>",
    "strength_mobility": "[click](javascript:alert(1)) $\\unicode{x}$",
}


@pytest.fixture(scope="session")
def small_study(tmp_path_factory):
    """30 clients x 8 weeks (the size the report must handle quickly), with hostile names."""
    folder = tmp_path_factory.mktemp("study") / "studio <i onclick=alert(3)>bold"
    study = simulate(30, 8, seed=5)
    study.clients["program"] = study.clients["program"].replace(HOSTILE_PROGRAMS)
    study.clients["studio"] = "<script>alert(2)</script>"
    grip = study.outcomes[study.outcomes["instrument"] == "nprs"].assign(instrument="grip strength")
    study.outcomes = pd.concat([study.outcomes, grip], ignore_index=True)
    write_study(study, folder)
    return folder


@pytest.fixture(scope="session")
def built(small_study, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "report"
    assert main(["report", str(small_study), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def two_clients(tmp_path_factory):
    """A studio of two clients: what a new user tries first."""
    folder = tmp_path_factory.mktemp("two")
    write_study(simulate(2, 10, seed=4), folder / "data")
    out = folder / "report"
    assert main(["report", str(folder / "data"), "--out", str(out)]) == 0
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def every_file(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_notebook_ran_without_an_error_cell(built):
    executed = sorted((built / "notebooks").glob("*.ipynb"))
    assert [p.stem for p in executed] == [p.stem for p in notebook_paths()]
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], path.name
        assert outputs, f"{path.name} produced nothing"
        assert "start_time" not in json.dumps(nb.metadata), "run timestamps must be stripped"


def test_manifest_lists_every_file_with_its_checksum(built):
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["figures"] and manifest["tables"]
    listed = {manifest["report"]["path"]} | {n["path"] for n in manifest["notebooks"]}
    for item in manifest["figures"] + manifest["tables"]:
        assert item["caption"].strip()
        for entry in item["files"]:
            assert sha256(built / entry["path"]) == entry["sha256"]
            listed.add(entry["path"])
    for figure in manifest["figures"]:
        assert sorted(Path(f["path"]).suffix for f in figure["files"]) == [".png", ".svg"]
    assert manifest["summary"]["path"] == "summary.json"
    assert sha256(built / "summary.json") == manifest["summary"]["sha256"]
    listed.add("summary.json")
    on_disk = set(every_file(built)) - {"manifest.json"}
    assert on_disk == listed, "every file is in the manifest and nothing else is in the folder"
    assert {d["path"] for d in manifest["dataset"]} == {"sessions.csv", "outcomes.csv", "clients.csv"}
    for figure in manifest["figures"]:
        assert figure["notebook"].startswith("notebooks/") and (built / figure["notebook"]).exists()
        assert figure["function"].startswith("backpain_analysis.figures."), figure["name"]


def test_html_is_one_offline_page_without_code(built):
    page = (built / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:|@import", page)
    assert "data:image/png;base64," in page
    assert "notebook_inputs(" not in page, "code cells are hidden"
    for title in ("Data quality", "Training exposure", "Pain and function"):
        assert title in page


def test_no_identifying_column_reaches_any_output(built, small_study):
    clients = (small_study / "clients.csv").read_text()
    assert "example.invalid" in clients  # the simulator writes e-mail addresses ...
    for path in built.rglob("*"):
        if path.suffix in {".csv", ".json", ".html", ".ipynb", ".svg"}:
            text = path.read_text()
            assert "example.invalid" not in text and "Client 001" not in text, path.name  # ... no output has them


def test_existing_report_is_not_replaced_without_force(built, small_study):
    before = every_file(built)
    with pytest.raises(DataError, match="holds an earlier report: pass --force"):
        build_report(small_study, built)
    assert every_file(built) == before


def test_forced_rebuild_gives_identical_bytes(built, small_study):
    first = every_file(built)
    build_report(small_study, built, force=True)
    second = every_file(built)
    assert sorted(second) == sorted(first)
    assert [name for name in first if first[name] != second[name]] == []
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")], "no build or old folder left behind"


def test_failing_notebook_is_named_with_its_cell_and_nothing_is_left(small_study, tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('data_path = "."\nout_dir = "."\nreal_ids = False')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Fails"), parameters, nbformat.v4.new_code_cell("x = 1\n\nraise ValueError('no ' + 'luck')")]
    nbformat.write(nb, folder / "09_fails.ipynb")
    out = tmp_path / "report"
    with pytest.raises(ReportError) as error:
        build_report(small_study, out, notebooks=folder)
    message = str(error.value)
    assert message.startswith("notebook 09_fails.ipynb failed in cell 3 ('x = 1'): ValueError: no luck - this is a bug")
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == [folder], "no partial report"


def test_cli_reports_a_missing_dataset_in_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_notebooks_are_stored_once_as_percent_scripts_inside_the_package():
    assert NOTEBOOK_DIR.parent.name == "backpain_analysis", "shipped in the wheel as package data"
    assert not list(NOTEBOOK_DIR.glob("*.ipynb")), "one file per notebook: the percent script"
    for path in notebook_paths():
        assert path.suffix == ".py"
        text = path.read_text()
        assert not text.startswith("# ---"), f"{path.name}: no metadata header that JupyterLab would rewrite"
        nb = jupytext.read(path)
        tagged = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        for name in ("data_path", "out_dir", "real_ids"):
            assert re.search(rf"^{name} = ", tagged[0].source, re.M), (path.name, name)
        assert jupytext.writes(nb, fmt="py:percent") == text, f"{path.name}: saving from JupyterLab would change it"


def test_pyproject_ships_the_notebooks():
    text = (NOTEBOOK_DIR.parent.parent / "pyproject.toml").read_text()
    assert '"notebooks/*.py"' in text and '"notebooks/jupytext.toml"' in text


def test_notebook_inputs_hide_client_keys_unless_asked(tmp_path):
    study = simulate(6, 3, seed=2)
    keys = {old: name for old, name in zip(study.clients["client_id"], ["zoe", "adam", "mia", "ben", "eva", "tom"], strict=True)}
    for table in ("sessions", "outcomes", "clients"):
        frame = getattr(study, table)
        frame["client_id"] = frame["client_id"].map(keys)
    write_study(study, tmp_path)
    hidden = notebook_inputs(tmp_path)
    assert sorted(hidden.panel["client_id"].unique()) == ["C001", "C002", "C003", "C004", "C005", "C006"]
    assert set(hidden.dataset.sessions["client_id"]) <= {"C001", "C002", "C003", "C004", "C005", "C006"}
    assert hidden.primary == "nprs" and hidden.outcomes[0] == "nprs"
    shown = notebook_inputs(tmp_path, real_ids=True)
    assert set(shown.panel["client_id"]) == set(keys.values())


def test_attempts_turn_data_problems_into_notes_and_let_bugs_through():
    attempt = Attempts()

    def too_few(n):
        raise DataError(f"only {n} clients")

    assert attempt("model", too_few, 3) is None
    assert attempt("sum", sum, [1, 2]) == 3
    assert attempt.problems == [("model", "only 3 clients")]
    assert attempt.notes() == "Not estimated — model: only 3 clients."
    assert attempt.reason("model") == "only 3 clients" and attempt.reason("sum") == ""
    with pytest.raises(ZeroDivisionError):
        attempt("bug", lambda: 1 / 0)


def test_attempts_turn_warnings_into_sentences_without_paths():
    import warnings

    attempt = Attempts()

    def noisy():
        warnings.warn("could not read /home/someone/checkout/data/x.csv fully", UserWarning)
        return 1

    assert attempt("loading", noisy) == 1
    assert attempt.warnings == [("loading", "could not read x.csv fully")]
    assert "Caution" in attempt.notes() and "/home" not in attempt.notes()


class _Live(HTMLParser):
    """Collects what a browser would run: script-like tags, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[object] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed", "base", "form"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or "javascript:" in (value or "").lower().replace(" ", ""):
                self.found.append((tag, name, value))


def live_html(page: str) -> list[object]:
    parser = _Live()
    parser.feed(page)
    return parser.found


def visible_text(page: str) -> str:
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_hostile_names_stay_text_and_no_script_can_run(built):
    page = (built / "report.html").read_text()
    assert live_html(page) == []
    meta = re.search(r'<meta[^>]*http-equiv="Content-Security-Policy"[^>]*>', page)
    assert meta and "script-src 'none'" in meta.group(0) and "default-src 'none'" in meta.group(0)
    text = visible_text(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text, "shown as typed"
    assert "[click](javascript:alert(1)) $\\unicode{x}$" in text
    assert "studio &lt;i onclick=alert(3)&gt;bold" in text, "the dataset folder name is text"
    figures = {p.name for p in (built / "figures").iterdir()}
    assert all(re.fullmatch(r"[a-z0-9_]+\.(png|svg)", name) for name in figures)
    assert any(name.startswith("trajectories_grip_strength_") for name in figures), "a custom instrument with a space works"


def summary_section(page: str) -> str:
    start = page.index('id="Summary"')
    return page[start : page.index("<h1", start + 1)]


def test_summary_is_the_first_section_and_its_numbers_are_the_tables(built):
    page = (built / "report.html").read_text()
    headings = re.findall(r"<h1[^>]*id=\"([^\"]+)\"", page)
    assert headings[1] == "Summary", headings[:3]  # after the report's title
    summary = json.loads((built / "summary.json").read_text())
    assert summary["outcome"] == "nprs" and summary["clients"] == 30
    section = visible_text(summary_section(page))
    params = pd.read_csv(built / "tables" / "volume_model_params.csv").set_index("term")
    contrasts = pd.read_csv(built / "tables" / "program_contrasts.csv")
    week = contrasts["week"].max()
    assert list(summary) == ["outcome", "clients", "findings"], "CONTRACT section 4 lists the keys"
    intervals = json.loads((built / "manifest.json").read_text())["summary"]  # how the intervals were made
    k = intervals["family_size"]
    assert k == len(summary["findings"]) == 5 and intervals["level"] == pytest.approx(1 - 0.05 / k)
    assert intervals["family_level"] == 0.95 and intervals["sha256"] == sha256(built / "summary.json")
    assert "Reading the intervals: these 5 questions are asked together" in section
    for finding in summary["findings"]:
        if finding["question"] == "program":
            program, _, reference = finding["term"].partition(" vs ")
            row = contrasts[(contrasts["week"] == week) & (contrasts["program"] == program) & (contrasts["versus"] == reference)].iloc[0]
            step = -1  # NPRS: lower is better
        else:
            row = params.loc[finding["term"]]
            step = -{"strength": 10, "flexibility": 30, "together": 300}[finding["question"]]
        assert finding["estimate"] == pytest.approx(step * row["estimate"], rel=1e-6), finding["term"]
        # the table's interval refitted at the summary's (Bonferroni) level: same estimate, std_error and df
        half = stats.t.ppf(0.5 + intervals["level"] / 2, row["df"]) * abs(step) * row["std_error"]
        assert (finding["conf_low"], finding["conf_high"]) == pytest.approx((finding["estimate"] - half, finding["estimate"] + half), rel=1e-6)
        table_half = abs(step) * (row["conf_high"] - row["conf_low"]) / 2  # the table keeps its own, narrower 95 % interval
        assert table_half < half
        shown = f"{abs(finding['estimate']):.2f} points {'better' if finding['estimate'] >= 0 else 'worse'}"
        assert shown in section, shown
        assert f"{signed(finding['conf_low'])} to {signed(finding['conf_high'])}" in section


def assert_honest_about_little_data(report: Path) -> str:
    """Issue 14's checks of a small studio's report.html; returns the visible text."""
    page = (report / "report.html").read_text()
    text = visible_text(page)
    assert live_html(page) == []
    assert "Warning" not in text and "Traceback" not in text, "no raw warning"
    assert not re.search(r"(/tmp/|/home/|/work/|[A-Z]:\\)", text), "no absolute path"
    assert "100 %" not in text
    assert "nothing general follows" in text
    summary = json.loads((report / "summary.json").read_text())
    assert {f["verdict"] for f in summary["findings"]} == {"too_few_data"}
    for match in re.finditer(r"95 % CI [-+]?\d", text):  # every interval shown in prose names its clients
        context = text[max(match.start() - 40, 0) : match.start() + 160]
        assert re.search(r"\d+ clients?|\d+ of \d+|trials", context), context
    for png in (report / "figures").glob("*.png"):
        assert png.stat().st_size > 5_000, f"{png.name} looks empty"
    return text


def test_little_data_is_said_in_words(two_clients):
    text = assert_honest_about_little_data(two_clients)
    for heading in ("Within- and between-client effects", "Strength x flexibility map", "Dose-response curves", "Sensitivity analyses"):
        assert f"{heading} not shown:" in text, "a heading whose figure is missing says why"


def two_real_exports(folder: Path) -> Path:
    """Two clients from real public exports (tests/data/imports/real) plus a weekly NPRS/ODI visit sheet."""
    from backpain_analysis.importers import import_export

    data = folder / "data"
    exports = {"A": "strong_jannesantana.csv", "B": "hevy_si2aung.csv"}
    for client, name in exports.items():
        import_export(Path(__file__).parent / "data" / "imports" / "real" / name, client, data)
    sessions = pd.read_csv(data / "sessions.csv", dtype=str)
    dates = pd.to_datetime(sessions["date"].str[:10]).groupby(sessions["client_id"])
    first, last = dates.min(), dates.max()
    pd.DataFrame(
        {"client_id": list(exports), "program": ["core_plus", "core_plus"], "start_date": first.dt.strftime("%Y-%m-%d").tolist()}
    ).to_csv(data / "clients.csv", index=False)
    rows = []
    for client in exports:
        for i, day in enumerate(pd.date_range(first[client], last[client] + pd.Timedelta(weeks=2), freq="7D")):
            rows += [(client, day.strftime("%Y-%m-%d"), "nprs", max(6 - i // 2, 1)), (client, day.strftime("%Y-%m-%d"), "odi", max(40 - 2 * i, 10))]
    pd.DataFrame(rows, columns=["client_id", "date", "instrument", "score"]).to_csv(data / "outcomes.csv", index=False)
    return data


def eight_clients_one_program_without_odi(folder: Path) -> Path:
    """A simulated studio of 8 clients, all in one program, that never measured the ODI."""
    data = folder / "data"
    write_study(simulate(8, 12, seed=6, bad_rows=False), data)
    clients = pd.read_csv(data / "clients.csv")
    clients.assign(program="core_plus").to_csv(data / "clients.csv", index=False)
    outcomes = pd.read_csv(data / "outcomes.csv")
    outcomes[~outcomes["instrument"].str.startswith("odi")].to_csv(data / "outcomes.csv", index=False)  # the score and its items
    return data


@pytest.mark.parametrize("make", [two_real_exports, eight_clients_one_program_without_odi])
def test_small_studios_reports_are_honest(make, tmp_path):
    """Issue 14 item 7's small datasets: no raw warning, no path, no 100 %, no interval without clients, no empty figure."""
    data = make(tmp_path)
    out = tmp_path / "report"
    assert main(["report", str(data), "--out", str(out)]) == 0
    text = assert_honest_about_little_data(out)
    if make is eight_clients_one_program_without_odi:
        assert "ODI" not in text and "nothing to compare" in text


def test_header_only_tables_still_give_a_report(tmp_path):
    data = tmp_path / "empty"
    data.mkdir()
    (data / "sessions.csv").write_text("client_id,date,exercise,sets,reps\n")
    (data / "outcomes.csv").write_text("client_id,date,instrument,score\n")
    assert main(["report", str(data), "--out", str(tmp_path / "report")]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["outcome"] is None and summary["clients"] == 0


def test_force_replaces_only_an_earlier_report(tmp_path, small_study, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.txt").write_text("keep me")
    (folder / "sub").mkdir()
    assert main(["report", str(small_study), "--out", str(folder), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a report" in err
    assert (folder / "thesis.txt").read_text() == "keep me" and (folder / "sub").is_dir()
    file = tmp_path / "file.txt"
    file.write_text("x")
    with pytest.raises(DataError, match="not a report"):
        build_report(small_study, file, force=True)
    assert file.read_text() == "x"


def test_out_dot_in_a_folder_with_files_deletes_nothing(tmp_path, small_study, monkeypatch, capsys):
    (tmp_path / "notes.md").write_text("mine")
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(small_study), "--out", ".", "--force"]) == 2
    assert (tmp_path / "notes.md").read_text() == "mine"
    assert "not a report" in capsys.readouterr().err


def test_leftover_build_folders_of_dead_runs_are_removed(tmp_path):
    from backpain_analysis.report import _remove_leftovers

    dead = tmp_path / ".report.building-999999999-0123abcd"
    alive = tmp_path / f".report.building-{os.getpid()}-0123abcd"
    other = tmp_path / ".other.building-999999999-0123abcd"
    for folder in (dead, alive, other):
        folder.mkdir()
    _remove_leftovers(tmp_path / "report")
    assert not dead.exists() and alive.exists() and other.exists()


def test_ctrl_c_ends_quietly_with_130(monkeypatch, tmp_path, capsys):
    import backpain_analysis.report as runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "build_report", interrupted)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r")]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_crashing_notebook_has_its_own_exit_status(monkeypatch, tmp_path, capsys):
    import backpain_analysis.report as runner

    def crashed(*args, **kwargs):
        raise ReportError("notebook 09_x.ipynb failed in cell 2 ('1/0'): ZeroDivisionError: division by zero")

    monkeypatch.setattr(runner, "build_report", crashed)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r")]) == 3
    assert "09_x.ipynb" in capsys.readouterr().err


def test_the_notebook_side_imports_no_notebook_machinery():
    import subprocess
    import sys

    code = (
        "import sys, backpain_analysis.notebook, backpain_analysis.narrative, backpain_analysis.summary; "
        "print(sorted(m for m in ('zmq', 'jupyter_client', 'papermill', 'nbconvert') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_readme_is_self_contained_and_links_every_docs_page():
    root = NOTEBOOK_DIR.parent.parent
    readme = (root / "README.md").read_text()
    assert "../shared" not in readme and "CONTRACT.md" not in readme
    for page in sorted((root / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, f"README does not link docs/{page.name}"
    assert "(backpain_analysis/notebooks/README.md)" in readme


def test_raw_warnings_stay_out_of_the_page(tmp_path):
    from backpain_analysis.report import _html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="/home/me/checkout/x.py:3: UserWarning: careful\n"),
        nbformat.v4.new_output("stream", name="stdout", text="kept\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# One"), cell]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    path = tmp_path / "01_one.ipynb"
    nbformat.write(nb, path)
    page = _html([path], "data")
    assert "kept" in page and "UserWarning" not in page and "/home/me" not in page


HOSTILE_ALPHABET = (
    "<>&\"'`/\\=$[](){}*_#!|~^%:;.,?+-@ \t\r\n"  # HTML, Markdown, LaTeX, CSV and formula characters
    "\x07\x1b\x7f"  # control characters
    "\u202e\u200f\u200b\ufeff"  # right-to-left override and mark, zero width, BOM
    "aZ9éß字😀"
)


@pytest.mark.slow
@settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.text(alphabet=HOSTILE_ALPHABET, min_size=1, max_size=300), min_size=5, max_size=5),
)
def test_any_typed_names_give_a_safe_report(names, tmp_path_factory):
    """Issue 11: programs, studio, coach, exercise and instrument names drawn from hostile alphabets (very long
    included) never crash load -> panel -> report, never make live HTML, and keep accepted + rejected = read."""
    program, studio, coach, exercise, instrument_name = names
    folder = tmp_path_factory.mktemp("typed") / "data"
    study = simulate(12, 6, seed=8)
    study.clients["program"] = study.clients["program"].where(study.clients.index % 2 == 0, program)
    study.clients["studio"] = studio
    study.clients["coach"] = coach
    study.sessions.loc[study.sessions.index[:3], "exercise"] = exercise
    extra = study.outcomes[study.outcomes["instrument"] == "nprs"].assign(instrument=instrument_name)
    study.outcomes = pd.concat([study.outcomes, extra], ignore_index=True)
    write_study(study, folder)
    from backpain_analysis.loading import load

    counts = load(folder).counts()
    assert (counts["accepted"] + counts["rejected"] == counts["read"]).all()
    out = folder.parent / "report"
    assert main(["report", str(folder), "--out", str(out)]) == 0
    assert live_html((out / "report.html").read_text()) == []
