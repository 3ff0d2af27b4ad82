"""The exposure lag K: the one check every lagged analysis uses.

A lag is a whole number of weeks, 0 or more: outcomes in week t are related to
training in week t - K. A negative K would relate pain to *later* training (a
lead), which no analysis here means, so it is refused with one message
wherever a lag is a parameter (the volume model, lagged panel exposures, the
sensitivity table, the dose-response curve).
"""

from __future__ import annotations

import numbers

from backpain_analysis.errors import DataError


def check_lag(lag: object, name: str = "lag") -> int:
    """``lag`` as an int, or :class:`DataError` (a ``ValueError``) naming the parameter.

    Message: ``"lag must be a whole number of weeks, 0 or more (a negative lag
    would relate outcomes to later training), not -1"``.
    """
    whole = isinstance(lag, numbers.Integral) or (isinstance(lag, numbers.Real) and float(lag).is_integer())
    if isinstance(lag, bool) or not whole or lag < 0:
        raise DataError(f"{name} must be a whole number of weeks, 0 or more (a negative lag would relate outcomes to later training), not {lag!r}")
    return int(lag)
