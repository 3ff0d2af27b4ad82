"""The notebook side's figure helper: a figure is saved and shown, too little data is said in escaped words."""

import html

import pandas as pd
from IPython.display import Markdown

from backpain_analysis.figures import data_quality
from backpain_analysis.figures.export import SavedFigure, read_registry
from backpain_analysis.notebook import show_figure


def counts() -> pd.DataFrame:
    return pd.DataFrame({"read": [10, 4], "accepted": [9, 4], "rejected": [1, 0]}, index=pd.Index(["sessions", "outcomes"], name="table"))


def test_a_figure_is_saved_registered_and_shown_with_its_caption(tmp_path):
    caption = "Rows per table <b>accepted</b> & rejected."
    shown = show_figure(data_quality.plot_row_accounting(counts()), "row_accounting", caption, tmp_path, "Rows")
    assert isinstance(shown, SavedFigure)
    assert shown.png == tmp_path / "figures" / "row_accounting.png" and shown.png.stat().st_size > 5_000
    assert shown.svg.read_text().startswith("<?xml")
    [record] = read_registry(tmp_path)
    assert (record["kind"], record["name"], record["caption"]) == ("figure", "row_accounting", caption)
    assert record["function"] == "backpain_analysis.figures.data_quality.plot_row_accounting"
    page = shown._repr_html_()
    assert html.escape(caption) in page and "<b>accepted" not in page


def test_too_little_data_is_said_in_escaped_words_and_nothing_is_drawn(tmp_path):
    reason = "only 2 clients in program <img src=x onerror=alert(1)> *core*"
    shown = show_figure(reason, "responders_by_program", "never used", tmp_path, "Responders by [program](javascript:x)")
    assert isinstance(shown, Markdown)
    assert shown.data.startswith("**Responders by \\[program\\]\\(javascript:x\\) not shown:** only 2 clients")
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in shown.data and "<img" not in shown.data
    assert "\\*core\\*" in shown.data and shown.data.endswith("\\.")
    assert list(tmp_path.iterdir()) == [] and read_registry(tmp_path) == []


def test_the_default_heading_and_a_reason_that_already_ends_a_sentence(tmp_path):
    assert show_figure("no model was fitted.", "x", "", tmp_path).data == "**Figure not shown:** no model was fitted\\."
