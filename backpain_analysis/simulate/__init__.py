"""Simulated studio data with a known truth (the data-generating process), one module per step.

Everything the simulator assumes is in
:mod:`~backpain_analysis.simulate.parameters`; ``docs/simulation.md``
writes the same process out in formulas with units. In short, for client *i* in week *t* (weeks counted from the client's
``start_date``, week 0 = days 0-6):

1. Training. The client's program sets a usual weekly level of strength sets
   and flexibility minutes (log-normal between clients); each planned
   session is attended with the client's adherence, whole weeks are skipped,
   the first weeks ramp up ("start gently"), some clients drop out. Session
   rows (exercise, sets, reps, load, seconds, RPE) are drawn around that
   level, and the realised weekly exposures ``S_it`` (core + back sets) and
   ``F_it`` (sets x duration_s / 60 over flexibility rows) are computed from
   those rows exactly as CONTRACT section 3 defines them.
2. Outcomes, for each instrument (NPRS, ODI, PSFS), exposure lag 1: a
   linear mixed model in exactly the ``backpain fit`` terms (within-client
   deviations of last week's strength sets and flexibility minutes, their
   product, the client means, week, a random intercept and week slope),
   clipped to the instrument's range and rounded
   (:mod:`~backpain_analysis.simulate.outcomes` gives the formula).

Options: ``reverse_causation`` (a persistent pain flare cuts the next week's
training), ``dose_response="saturating"`` (the within-client strength effect
plateaus), program advantage (per-program weekly slope), and planted bad rows.
``truth`` records every parameter, per-client true changes and responder
probabilities, and the planted bad rows.

Modules: :mod:`~backpain_analysis.simulate.parameters` (every assumption),
:mod:`~backpain_analysis.simulate.training` (client draws, session rows,
weekly exposures), :mod:`~backpain_analysis.simulate.outcomes` (scores),
:mod:`~backpain_analysis.simulate.truth` (truth.json),
:mod:`~backpain_analysis.simulate.bad_rows` (planted mistakes),
:mod:`~backpain_analysis.simulate.files` (writing a study) and
:mod:`~backpain_analysis.simulate.study` (:func:`simulate` itself).
"""

from backpain_analysis.simulate.bad_rows import BAD_ROW_KINDS
from backpain_analysis.simulate.files import write_study
from backpain_analysis.simulate.parameters import (
    EFFECT_TERMS,
    EXERCISES,
    FIRST_START,
    ODI_ITEM_FORM_SHARE,
    OUTCOME_MODELS,
    PROGRAMS,
    SATURATION_SETS,
    START_SPREAD_DAYS,
    STRENGTH_ROUTINE,
    STRETCH_ROUTINE,
    STUDIOS,
    Exercise,
    OutcomeModel,
    ProgramTraining,
    ReverseCausation,
    TrainingModel,
)
from backpain_analysis.simulate.study import SimulatedStudy, simulate

__all__ = [
    "BAD_ROW_KINDS",
    "EFFECT_TERMS",
    "EXERCISES",
    "FIRST_START",
    "ODI_ITEM_FORM_SHARE",
    "OUTCOME_MODELS",
    "PROGRAMS",
    "SATURATION_SETS",
    "START_SPREAD_DAYS",
    "STRENGTH_ROUTINE",
    "STRETCH_ROUTINE",
    "STUDIOS",
    "Exercise",
    "OutcomeModel",
    "ProgramTraining",
    "ReverseCausation",
    "SimulatedStudy",
    "TrainingModel",
    "simulate",
    "write_study",
]
