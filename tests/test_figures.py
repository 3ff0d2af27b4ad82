"""Figure functions: each returns a labelled, titled Figure; helpers compute what they say; saving is byte-stable."""

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from backpain_analysis.descriptives import adherence_by_week, adherence_with_assumed_sets, panel_with_assumed_sets
from backpain_analysis.dose_response import fit_dose_response
from backpain_analysis.figures import data_quality, effects, exposure, programs, save_figure, save_table, trajectories
from backpain_analysis.figures.export import read_registry, safe_name
from backpain_analysis.figures.style import evenly_spaced, improvement_sign, outcome_label
from backpain_analysis.loading import load
from backpain_analysis.panel import client_start_dates, weekly_panel
from backpain_analysis.programs import compare_programs
from backpain_analysis.pseudonyms import pseudonymize
from backpain_analysis.responders import client_changes, client_trends, responder_rates, time_to_improvement
from backpain_analysis.sensitivity import sensitivity_table
from backpain_analysis.simulate import simulate, write_study
from backpain_analysis.volume_model import fit_volume_model


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures_study")
    write_study(simulate(40, 10, seed=8), folder)
    dataset = load(folder)
    return dataset, pseudonymize(weekly_panel(dataset))


@pytest.fixture(scope="module")
def models(studio):
    panel = studio[1]
    return {
        "volume": fit_volume_model(panel, "nprs"),
        "dose": fit_dose_response(panel, "nprs"),
        "sensitivity": sensitivity_table(panel, "nprs", lags=(0, 2)),
        "programs": compare_programs(panel, "nprs", weeks=(4, 8)),
    }


def builders(studio, models):
    """Name -> function drawing that figure as the notebooks draw it, one per figure function."""
    dataset, panel = studio
    weekly_columns = [c for _, columns, _ in exposure.WEEKLY_PANELS for c in columns]
    loads = ["strength_acute", "strength_chronic", "flexibility_acute", "flexibility_chronic"]
    grid, n_clients = data_quality.coverage_grid(panel, "nprs", max_clients=25)
    rates = responder_rates(panel, "nprs", by=None)
    times = time_to_improvement(panel, "nprs", by=None)
    volume, dose, comparison = models["volume"], models["dose"], models["programs"]
    reasons = data_quality.rejection_reasons(dataset.rejected)
    coverage = data_quality.weekly_coverage(panel, ["nprs", "odi"])
    surface = effects.interaction_surface(volume.params, volume.design, "nprs")
    benchmark = programs.improvement_on_100(client_changes(panel, "nprs"), "nprs")
    assumed = adherence_with_assumed_sets(dataset.sessions, client_start_dates(dataset))  # real keys, as the sessions
    timed = panel_with_assumed_sets(weekly_panel(dataset), assumed)
    return {
        "row_accounting": lambda: data_quality.plot_row_accounting(dataset.counts()),
        "rejection_reasons": lambda: data_quality.plot_rejection_reasons(reasons),
        "weekly_coverage": lambda: data_quality.plot_weekly_coverage(coverage, ["nprs", "odi"]),
        "coverage_grid": lambda: data_quality.plot_coverage_grid(grid, "nprs", n_clients),
        "weekly_exposure": lambda: exposure.plot_weekly_exposure(exposure.weekly_quantiles(panel, weekly_columns)),
        "adherence": lambda: exposure.plot_adherence(timed, adherence_by_week(timed)),
        "ramp_up": lambda: exposure.plot_ramp_up(panel),
        "acute_chronic": lambda: exposure.plot_acute_chronic(exposure.weekly_quantiles(panel, loads)),
        "trajectories": lambda: trajectories.plot_trajectories(panel, "nprs", trajectories.mean_trajectory(panel, "nprs"), max_clients=15),
        "responders": lambda: trajectories.plot_responder_rates(rates, list(rates["threshold"]), "Responders"),
        "time_to_improvement": lambda: trajectories.plot_time_to_improvement(times.curves, {"all": float(times.clients["time"].max())}, "Time"),
        "forest": lambda: effects.plot_forest(volume.clinical_effects(), "nprs"),
        "surface": lambda: effects.plot_interaction_surface(surface, volume.design, "nprs"),
        "dose_response": lambda: effects.plot_dose_response(dose.curves, dose.flattening, "nprs"),
        "sensitivity": lambda: effects.plot_sensitivity(models["sensitivity"], "nprs"),
        "program_trajectories": lambda: programs.plot_program_trajectories(comparison.trajectories, "nprs"),
        "program_contrasts": lambda: programs.plot_program_contrasts(comparison.contrasts, "nprs"),
        "benchmark": lambda: programs.plot_benchmark(benchmark, "nprs"),
        "client_changes": lambda: trajectories.plot_client_changes(client_trends(panel, "nprs", 8), "nprs"),
    }


def y_is_explained(ax):
    """A y label, or text tick labels (the categories of a forest or bar chart)."""
    return bool(ax.get_ylabel().strip()) or any(re.search("[A-Za-z]", t.get_text()) for t in ax.get_yticklabels())


def data_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def test_every_figure_is_titled_and_labelled(studio, models):
    for name, draw in builders(studio, models).items():
        fig = draw()
        assert isinstance(fig, Figure), name
        titles = [fig.get_suptitle()] + [ax.get_title() for ax in data_axes(fig)]
        assert any(t.strip() for t in titles), f"{name}: no title"
        for ax in data_axes(fig):
            assert any(y_is_explained(sibling) for sibling in ax.get_shared_y_axes().get_siblings(ax)), f"{name}: y axis unexplained"
            if ax.get_subplotspec().is_last_row():
                assert ax.get_xlabel().strip(), f"{name}: bottom axes without x label"
        assert fig.get_figwidth() == pytest.approx(7.0), name


def test_a_figure_drawn_twice_saves_to_the_same_bytes(studio, models, tmp_path):
    draw = builders(studio, models)
    saved = {}
    for run in ("a", "b"):
        for name in ("trajectories", "time_to_improvement", "surface", "dose_response"):
            result = save_figure(draw[name](), name, "caption", tmp_path / run)
            saved.setdefault(name, []).append((result.png.read_bytes(), result.svg.read_bytes()))
    for name, (first, second) in saved.items():
        assert first == second, name
    png, svg = saved["surface"][0]
    assert b"Software" not in png and b"<dc:date>" not in svg


def test_save_figure_and_table_register_what_they_wrote(tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    shown = save_figure(fig, "line", "A falling line.", tmp_path)
    table = save_table(pd.DataFrame({"x": [1.0, 2.5]}), "numbers", "Two numbers.", tmp_path)
    assert [r["name"] for r in read_registry(tmp_path)] == ["line", "numbers"]
    assert read_registry(tmp_path)[0]["files"] == ["figures/line.png", "figures/line.svg"]
    assert (tmp_path / "tables" / "numbers.csv").read_text() == "x\n1\n2.5\n"
    assert "data:image/png;base64," in shown._repr_html_() and "A falling line." in shown._repr_html_()
    assert "2.50" in table._repr_html_()
    odd = save_figure(fig, "mean_grip strength", "x", tmp_path)
    assert re.fullmatch(r"mean_grip_strength_[0-9a-f]{8}", odd.name) and odd.png.exists()
    assert save_figure(fig, "mean_grip_strength", "x", tmp_path).name == "mean_grip_strength", "no collision"
    hostile = safe_name("<img src=x onerror=alert(1)>/../x")
    assert re.fullmatch(r"[a-z0-9_]+", hostile)


def test_figure_functions_are_named_in_the_registry(tmp_path):
    panel = simulate(12, 6, seed=3).weekly
    fig = programs.plot_program_trajectories(
        pd.DataFrame({"program": ["a", "a"], "week": [0, 1], "estimate": [5.0, 4.0], "conf_low": [4.0, 3.0], "conf_high": [6.0, 5.0]}), "nprs"
    )
    save_figure(fig, "t", "Trajectories.", tmp_path)
    assert read_registry(tmp_path)[0]["function"] == "backpain_analysis.figures.programs.plot_program_trajectories"
    assert len(panel)


def test_rejection_reasons_group_by_rule_not_by_value():
    ledger = pd.DataFrame(
        {
            "table": ["outcomes", "outcomes", "sessions", "sessions"],
            "row": [7, 3, 2, 9],
            "column": ["score", "score", "exercise", "date"],
            "value": ["14", "12", "Jefferson curl", "2024-01-02"],
            "reason": [
                "score 14 is outside nprs range 0-10",
                "score 12 is outside nprs range 0-10",
                "unknown exercise 'Jefferson curl'",
                "date 2024-01-02 is before client C007's start_date 2024-02-01",
            ],
        }
    )
    reasons = data_quality.rejection_reasons(ledger)
    assert list(reasons["reason"]) == [
        "score … is outside nprs range 0-10",
        "date … is before client …'s start_date …",
        "unknown exercise '…'",
    ]
    assert list(reasons["rows"]) == [2, 1, 1]
    assert reasons.loc[0, "example_row"] == 3


def test_weekly_coverage_counts_shares_of_followed_clients():
    panel = pd.DataFrame({"client_id": ["a", "a", "b"], "week": [0, 1, 0], "sessions": [2, 0, 1], "nprs": [5.0, np.nan, np.nan]})
    coverage = data_quality.weekly_coverage(panel, ["nprs"])
    assert coverage.to_dict("list") == {"week": [0, 1], "clients": [2, 1], "with_sessions": [100.0, 0.0], "with_nprs": [50.0, 0.0]}


def test_weekly_coverage_of_a_few_clients_is_drawn_as_counts_not_percentages():
    coverage = pd.DataFrame({"week": [0, 1], "clients": [2, 1], "with_sessions": [100.0, 0.0], "with_nprs": [50.0, 0.0]})
    bottom = data_quality.plot_weekly_coverage(coverage, ["nprs"]).axes[1]
    assert bottom.get_ylabel() == "clients (of those followed)"
    assert list(bottom.get_lines()[1].get_ydata()) == [1.0, 0.0]
    many = coverage.assign(clients=[20, 10])
    assert data_quality.plot_weekly_coverage(many, ["nprs"]).axes[1].get_ylabel() == "% of clients followed"


def test_trajectory_without_intervals_claims_no_band():
    panel = pd.DataFrame({"client_id": list("abcabc"), "week": [0, 0, 0, 4, 4, 4], "nprs": [5.0, 6, 7, 4, 5, 6]})
    mean = trajectories.mean_trajectory(panel, "nprs")  # 3 clients a week: means, no intervals
    labels = trajectories.plot_trajectories(panel, "nprs", mean).axes[0].get_legend_handles_labels()[1]
    assert "95 % CI of the mean" not in labels and "mean of clients measured that week" in labels


def test_mean_trajectory_is_a_t_interval_over_measured_clients():
    panel = pd.DataFrame({"client_id": list("abcd"), "week": [0, 0, 0, 1], "nprs": [2.0, 4.0, 9.0, 5.0]})
    mean = trajectories.mean_trajectory(panel, "nprs", min_clients=3, min_clients_interval=3)
    assert list(mean["week"]) == [0]
    half = stats.t.ppf(0.975, 2) * np.std([2, 4, 9], ddof=1) / np.sqrt(3)
    assert mean.loc[0, "mean"] == pytest.approx(5.0)
    assert (mean.loc[0, "conf_low"], mean.loc[0, "conf_high"]) == pytest.approx((5 - half, 5 + half))
    default = trajectories.mean_trajectory(panel, "nprs", min_clients=3)
    assert default.loc[0, "mean"] == pytest.approx(5.0) and default[["conf_low", "conf_high"]].isna().all(axis=None), "no interval from 3 clients"


def test_interaction_surface_is_the_model_formula():
    params = pd.DataFrame(
        {"term": ["strength_sets_within", "flexibility_min_within", "strength_x_flexibility_within"], "estimate": [-0.1, -0.02, 0.001]}
    )
    design = pd.DataFrame({"strength_sets_within": np.linspace(-10, 10, 21), "flexibility_min_within": np.linspace(-30, 30, 21)})
    surface = effects.interaction_surface(params, design, "nprs", points=5)
    row = surface.iloc[-1]
    s, f = row["strength_sets_within"], row["flexibility_min_within"]
    assert row["change"] == pytest.approx(-0.1 * s - 0.02 * f + 0.001 * s * f)
    assert row["improvement"] == pytest.approx(-row["change"])  # NPRS: lower is better
    assert len(surface) == 25


def test_improvement_on_100_rescales_nprs_and_groups():
    changes = pd.DataFrame({"improvement": [1.0, 2.0, 3.0, 0.5], "program": ["x", "x", "y", None]})
    table = programs.improvement_on_100(changes, "nprs")
    assert list(table["group"]) == ["all", "x", "y"]
    assert table.loc[0, "estimate"] == pytest.approx(16.25)
    assert table.loc[1, "estimate"] == pytest.approx(15.0)
    assert np.isnan(table.loc[2, "conf_low"])  # one client: no interval


def test_exposure_helpers_describe_the_panel():
    panel = pd.DataFrame(
        {
            "client_id": ["a"] * 6,
            "week": range(6),
            "strength_acute": [1.0, 2, 2, 2, 3.0, 1.0],
            "strength_chronic": [0.5, 1, 1, 1, 2.0, 0.0],
            "met_20min_most_days": [True, False, True, True, False, False],
            "days_20min": [4, 1, 5, 4, 0, 0],
        }
    )
    ratio = exposure.acute_chronic_ratio(panel, "strength", from_week=4)
    assert list(ratio.dropna()) == [1.5]  # week 5 has no chronic load
    assert exposure.ratio_shares(ratio) == {"below": 0.0, "within": 0.0, "above": 100.0}
    assert exposure.adherence_by_week(pd.concat([panel] * 5).assign(client_id=lambda f: range(len(f))), min_clients=5)["met"].tolist() == [100.0, 0.0, 100.0, 100.0, 0.0, 0.0]


def test_style_helpers():
    assert list(evenly_spaced(np.arange(10), 4)) == [0, 3, 6, 9]
    assert list(evenly_spaced(np.arange(3), 4)) == [0, 1, 2]
    assert improvement_sign("psfs") == 1.0 and improvement_sign("odi") == -1.0
    assert outcome_label("nprs") == "Numeric Pain Rating Scale\n(points, 0-10; lower is better)"


def test_ramp_up_labels_every_box_with_its_week(studio):
    panel = studio[1]
    fig = exposure.plot_ramp_up(panel, weeks=8)
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == [str(w) for w in range(8)]
        assert list(ax.get_xticks()) == list(range(8)), "label i sits under the box of week i"


def test_backpain_figure_regenerates_one_report_figure(studio, tmp_path, capsys):
    from backpain_analysis.cli import main
    from backpain_analysis.recipes import RECIPES

    folder = tmp_path / "data"
    write_study(simulate(12, 8, seed=8), folder)
    out = tmp_path / "ramp.png"
    assert main(["figure", "ramp_up", str(folder), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(out.read_bytes()[16:20], "big")
    assert width >= 2000, "print resolution (300 dpi)"
    adherence = tmp_path / "adherence.png"  # the recipe counting untimed sets, as the report's figure
    assert main(["figure", "adherence", str(folder), "--out", str(adherence)]) == 0
    assert adherence.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["figure", "no_such", str(folder), "--out", str(out)]) == 2
    assert "known:" in capsys.readouterr().err
    assert set(RECIPES) >= {"volume_effects_forest", "program_contrasts", "ramp_up"}


def test_every_plot_function_takes_ax_and_returns_a_figure():
    import inspect

    from backpain_analysis import figures

    modules = [data_quality, effects, exposure, programs, trajectories]
    plots = [(m.__name__, name, f) for m in modules for name, f in vars(m).items() if name.startswith("plot_") and callable(f)]
    assert len(plots) >= 14
    for module, name, function in plots:
        parameter = inspect.signature(function).parameters.get("ax")
        assert parameter is not None and parameter.default is None, f"{module}.{name} takes no ax=None"
        assert inspect.signature(function).return_annotation in ("Figure", Figure), name
    assert figures is not None


def test_a_plot_draws_into_the_axes_it_is_given():
    trajectories_frame = pd.DataFrame(
        {"program": ["a", "a", "b", "b"], "week": [0, 1, 0, 1], "estimate": [5.0, 4.0, 5.0, 3.5], "conf_low": [4.0, 3.0, 4.0, 2.5], "conf_high": [6.0, 5.0, 6.0, 4.5]}
    )
    host = Figure()
    left, right = host.subplots(1, 2)
    assert programs.plot_program_trajectories(trajectories_frame, "nprs", ax=right) is host
    assert right.lines and not left.lines
    with pytest.raises(ValueError, match="2 Axes"):
        exposure.plot_acute_chronic(pd.DataFrame(), ax=left)
