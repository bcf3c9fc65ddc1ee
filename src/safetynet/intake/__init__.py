"""The one door for tabular input: every reader of a file an office or a department delivers
(households, contributions, payee accounts, bank returns, feeds) goes through this kit.

- ``reading``: a CSV or XLSX file into rows of text, the header found below title rows;
- ``columns``: the reader's columns and the mapping of the file's headers to them;
- ``values``: a cell's text into a value, every problem naming its field;
- ``limits``: the plausible window of dates and the largest amount (parameters ``common.intake.*``);
- ``quarantine``: rejected rows kept with their reasons and written out again;
- ``progress``: how far a long step is.
"""

from safetynet.intake.columns import (
    IGNORED,
    NON_DATA_HEADERS,
    Column,
    header_lookup,
    map_headers,
    normalise_header,
)
from safetynet.intake.limits import LIMIT_PARAMETERS, IntakeLimits, intake_limits
from safetynet.intake.progress import NullProgress, ProgressSink
from safetynet.intake.quarantine import QuarantineLine, default_quarantine_path, write_quarantine
from safetynet.intake.reading import (
    RawRow,
    Sheet,
    cell_problems,
    decode,
    read_csv_rows,
    read_sheet,
    read_xlsx_rows,
)
from safetynet.intake.values import (
    parse_area,
    parse_count,
    parse_date_text,
    parse_money,
    parse_month,
    parse_region,
)

__all__ = [
    "IGNORED",
    "LIMIT_PARAMETERS",
    "NON_DATA_HEADERS",
    "Column",
    "IntakeLimits",
    "NullProgress",
    "ProgressSink",
    "QuarantineLine",
    "RawRow",
    "Sheet",
    "cell_problems",
    "decode",
    "default_quarantine_path",
    "header_lookup",
    "intake_limits",
    "map_headers",
    "normalise_header",
    "parse_area",
    "parse_count",
    "parse_date_text",
    "parse_money",
    "parse_month",
    "parse_region",
    "read_csv_rows",
    "read_sheet",
    "read_xlsx_rows",
    "write_quarantine",
]
