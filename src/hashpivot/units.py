"""The foundation's units and array types: one home for what every module used to define.

``DAYS_PER_MONTH`` is the average month of the Julian year, 365.25 / 12 = 30.4375 days, used
where a monthly amount is spread over a month of a given length (``days / DAYS_PER_MONTH``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Days in an average month [d]: 365.25 / 12.
DAYS_PER_MONTH = 365.25 / 12
#: Days in an average year [d].
DAYS_PER_YEAR = 365.25
#: Hours in an average month [h].
HOURS_PER_MONTH = 24.0 * DAYS_PER_MONTH

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
