"""backpain_analysis: outcomes analysis for back-pain exercise programs.

See docs/architecture.md for the layers and README.md for the two commands.
"""

from backpain_analysis.errors import DataError

__all__ = ["DataError"]
__version__ = "0.1.0"
