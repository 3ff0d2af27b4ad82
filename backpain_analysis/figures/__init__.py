"""Figures: one function per figure, each returning a matplotlib ``Figure``.

Modules by theme: :mod:`.data_quality`, :mod:`.exposure`,
:mod:`.trajectories`, :mod:`.effects`, :mod:`.programs`; the shared look in
:mod:`.style`; saving for the report in :mod:`.export`.
"""

from backpain_analysis.figures.export import save_figure, save_table

__all__ = ["save_figure", "save_table"]
