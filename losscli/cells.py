"""What a number looks like as text: one definition for the cells of a CSV file and for option values.

No NumPy here, so the command line can use it while parsing options.
"""

from __future__ import annotations

import re

# What pyarrow's text-to-float cast accepts (decimal numbers, inf, infinity, nan), so the cells it
# refuses can be found and named. Hexadecimal (0x10), thousands separators and decimal commas are not numbers.
NUMBER = r"^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$"
# Cells a CSV writer uses for a missing number (pandas' and pyarrow's spellings, Python's None).
MISSING_CELLS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                 "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "None")

_NUMBER = re.compile(NUMBER, re.IGNORECASE | re.ASCII)


def is_number(text: str) -> bool:
    return _NUMBER.match(text.strip()) is not None
