"""The report: every notebook runs on a small simulated studio, output is complete and reproducible.

The report is built once per session (it starts one kernel per notebook); the
tests read that build, and one more forced build checks byte-identity.
"""

import hashlib
import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.notebook import Attempts, notebook_inputs
from backpain_analysis.report import NOTEBOOK_DIR, ReportError, build_report, notebook_paths
from backpain_analysis.simulate import simulate, write_study


@pytest.fixture(scope="session")
def small_study(tmp_path_factory):
    """30 clients x 8 weeks: the size the report must handle quickly."""
    folder = tmp_path_factory.mktemp("study")
    write_study(simulate(30, 8, seed=5), folder)
    return folder


@pytest.fixture(scope="session")
def built(small_study, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "report"
    assert main(["report", str(small_study), "--out", str(out)]) == 0
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
    assert attempt.notes() == "Not estimated — model: only 3 clients\\."
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
