"""Values from the user's files made safe to print: JSON-serialisable, one line, no terminal escapes.

Group keys and --keep values come straight from the input: dates, decimals, bytes, NaN, text
holding a newline, HTML or an ANSI escape sequence. Every renderer passes them through here, so
no output is invalid JSON, no markdown table breaks and nothing reaches a terminal raw.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """A JSON-serialisable copy: non-finite floats as None (JSON has no NaN), dates as ISO 8601 text, decimals
    as their exact text, bytes as UTF-8 text (undecodable bytes as \\x escapes), NumPy scalars as Python ones."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if hasattr(value, "item") and callable(value.item):  # a NumPy scalar
        return plain(value.item())
    return str(value)


def one_line(value: Any) -> str:
    """Text for a table cell or a message: plain(value) with control characters (newlines, tabs, ESC, bidi
    overrides) written as escapes, so a value shows as what it is and cannot move the cursor or colour a terminal."""
    value = plain(value)
    text = "nan" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def group_label(group: dict | None) -> str:
    """'sex=a, site=02134' for a group of --group-by, each value made one_line."""
    return ", ".join(f"{one_line(k)}={one_line(v)}" for k, v in group.items()) if group else ""


def markdown_cell(text: str) -> str:
    """One_line text for a markdown table cell: pipes escaped, HTML shown as text rather than rendered
    (inside a `code span`, whose text is literal, only the pipes)."""
    text = one_line(text)
    if not (len(text) > 1 and text.startswith("`") and text.endswith("`")):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")
