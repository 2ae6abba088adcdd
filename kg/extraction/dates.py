"""Normalizing date expressions of news text to ISO dates, given the document date.

>>> normalize_date("May 23", "2023-05-24")
'2023-05-23'
>>> normalize_date("on Monday", "2023-05-24")
'2023-05-22'
>>> normalize_date("yesterday", "2023-05-24")
'2023-05-23'
>>> normalize_date("May 23", None) is None
True
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()


def _parse_iso(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def normalize_date(text: str, doc_date: str | None) -> str | None:
    """An ISO date for ``text`` when the text (and the document date) fix one day, else None."""
    t = text.lower().strip().rstrip(".,")
    t = re.sub(r"^(on|since|by|from|until|last|this)\s+", "", t)
    ref = _parse_iso(doc_date)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t)
    if m:
        return t
    m = re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?", t) or re.fullmatch(
        r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+(\d{4}))?", t
    )
    if m:
        a, b, year = m.groups()
        month_name, day = (a, b) if a.isalpha() else (b, a)
        month = _MONTHS.get(month_name)
        if month is None:
            return None
        if year is None:
            if ref is None:
                return None
            year_i = ref.year
            # a month later in the year than the document date is last year's
            if (month, int(day)) > (ref.month, ref.day) and month - ref.month > 1:
                year_i -= 1
        else:
            year_i = int(year)
        try:
            return dt.date(year_i, month, int(day)).isoformat()
        except ValueError:
            return None
    if ref is None:
        return None
    if t in {"today", "tonight", "this morning", "this afternoon", "this evening"}:
        return ref.isoformat()
    if t in {"yesterday", "last night"}:
        return (ref - dt.timedelta(days=1)).isoformat()
    if t in _DAYS:
        back = (ref.weekday() - _DAYS.index(t)) % 7
        return (ref - dt.timedelta(days=back)).isoformat()
    m = re.fullmatch(r"(\d+|a|one|two|three)\s+(day|week)s?\s+ago", t)
    if m:
        n = {"a": 1, "one": 1, "two": 2, "three": 3}.get(m.group(1)) or int(m.group(1))
        return (ref - dt.timedelta(days=n * (7 if m.group(2) == "week" else 1))).isoformat()
    return None
