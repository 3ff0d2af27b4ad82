"""One report figure from a dataset, without running a notebook: ``backpain figure NAME DATA --out FILE``.

Each recipe takes the notebook inputs (:func:`backpain_analysis.notebook.notebook_inputs`),
computes the result the figure draws exactly as the notebook named in
:data:`RECIPES` does, and returns the Figure from the same library function,
so the file equals the report's figure of that name (up to the file format).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from backpain_analysis.errors import DataError
from backpain_analysis.notebook import NotebookInputs, notebook_inputs


def _primary(inputs: NotebookInputs) -> str:
    if inputs.primary is None:
        raise DataError("no pain or disability instrument was measured, so this figure cannot be drawn")
    return inputs.primary


def _volume_model(inputs: NotebookInputs):
    from backpain_analysis.volume_model import fit_volume_model

    return fit_volume_model(inputs.panel, _primary(inputs))


def _comparison(inputs: NotebookInputs):
    from backpain_analysis.programs import compare_programs
    from backpain_analysis.summary import contrast_weeks, reference_program

    panel = inputs.panel
    return compare_programs(panel, _primary(inputs), weeks=contrast_weeks(panel), reference=reference_program(panel))


def _forest(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import effects

    return effects.plot_forest(_volume_model(inputs).clinical_effects(), _primary(inputs))


def _surface(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import effects

    model = _volume_model(inputs)
    surface = effects.interaction_surface(model.params, model.design, _primary(inputs))
    return effects.plot_interaction_surface(surface, model.design, _primary(inputs))


def _dose(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.dose_response import fit_dose_response
    from backpain_analysis.figures import effects

    dose = fit_dose_response(inputs.panel, _primary(inputs))
    return effects.plot_dose_response(dose.curves, dose.flattening, _primary(inputs))


def _sensitivity(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import effects
    from backpain_analysis.sensitivity import sensitivity_table

    return effects.plot_sensitivity(sensitivity_table(inputs.panel, _primary(inputs)), _primary(inputs))


def _program_trajectories(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import programs

    return programs.plot_program_trajectories(_comparison(inputs).trajectories, _primary(inputs))


def _program_contrasts(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import programs

    return programs.plot_program_contrasts(_comparison(inputs).contrasts, _primary(inputs))


def _benchmark(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import programs
    from backpain_analysis.summary import pain_benchmark
    from backpain_analysis.volume_model import MIN_CLIENTS

    table = pain_benchmark(inputs.panel, inputs.outcomes)
    enough = table[table["n_clients"] >= MIN_CLIENTS].reset_index(drop=True)
    if enough.empty:
        raise DataError(f"fewer than {MIN_CLIENTS} clients have a pain score at baseline and later")
    return programs.plot_benchmark(enough, table.attrs["outcome"])


def _ramp_up(inputs: NotebookInputs) -> Figure:
    from backpain_analysis.figures import exposure

    if inputs.panel["client_id"].nunique() < 5:
        raise DataError("a box plot needs at least 5 clients per week")
    return exposure.plot_ramp_up(inputs.panel, weeks=8)


def _weekly_exposure(inputs: NotebookInputs) -> Figure:
    from backpain_analysis import descriptives
    from backpain_analysis.figures import exposure

    columns = [column for _, names, _ in exposure.WEEKLY_PANELS for column in names]
    weekly = descriptives.weekly_quantiles(inputs.panel, columns)
    if weekly.empty:
        raise DataError("no week has 5 or more clients followed")
    return exposure.plot_weekly_exposure(weekly)


def _adherence(inputs: NotebookInputs) -> Figure:
    from backpain_analysis import descriptives
    from backpain_analysis.figures import exposure
    from backpain_analysis.panel import MOST_DAYS, client_start_dates

    assumed = descriptives.adherence_with_assumed_sets(inputs.dataset.sessions, client_start_dates(inputs.dataset))
    timed = descriptives.panel_with_assumed_sets(inputs.panel, assumed)
    by_week = descriptives.adherence_by_week(timed)
    if by_week.empty:
        raise DataError("no week has 5 or more clients followed")
    return exposure.plot_adherence(timed, by_week, MOST_DAYS)


RECIPES: dict[str, tuple[str, Callable[[NotebookInputs], Figure]]] = {
    "volume_effects_forest": ("04_volume_effects", _forest),
    "strength_flexibility_surface": ("04_volume_effects", _surface),
    "dose_response": ("04_volume_effects", _dose),
    "sensitivity": ("04_volume_effects", _sensitivity),
    "program_trajectories": ("05_programs", _program_trajectories),
    "program_contrasts": ("05_programs", _program_contrasts),
    "benchmark_hayden_2021": ("05_programs", _benchmark),
    "ramp_up": ("02_training_exposure", _ramp_up),
    "weekly_exposure": ("02_training_exposure", _weekly_exposure),
    "adherence": ("02_training_exposure", _adherence),
}
"""Figure name (as in the report's ``figures/``) -> (notebook that draws it, recipe)."""


def make_figure(name: str, data: str | Path, out: str | Path, real_ids: bool = False) -> Path:
    """Draw the report figure ``name`` for the dataset ``data`` into ``out`` (.png at 300 dpi, .svg or .pdf).

    Raises :class:`DataError` for an unknown name or suffix, or when the data
    cannot give the figure (the same reason the report states in words).
    """
    from backpain_analysis.figures.style import RC

    if name not in RECIPES:
        raise DataError(f"no figure named {name!r}; known: {', '.join(sorted(RECIPES))}")
    out = Path(out)
    if out.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise DataError(f"--out {out.name} must end in .png, .svg or .pdf")
    figure = RECIPES[name][1](notebook_inputs(data, real_ids))
    out.parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(RC):
        figure.savefig(out, metadata={"Software": None} if out.suffix.lower() == ".png" else None)
    return out
