"""Machine formats, written with plain writes to stdout: never through Rich, which would
wrap lines and take square brackets for markup."""

from __future__ import annotations

import json
from typing import Any


def report_json(report, extra: dict[str, Any] | None = None) -> str:
    document = {
        "source": report.sources,
        "rows": report.rows,
        "results": [r.as_json() for r in report.results],
    }
    document.update(extra or {})
    return json.dumps(document, indent=2) + "\n"
