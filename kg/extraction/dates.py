"""Normalizing date expressions of news text to ISO dates, given the document date.

>>> normalize_date("May 23", "2023-05-24")
'2023-05-23'
>>> normalize_date("on Monday", "2023-05-24")
'2023-05-22'
>>> normalize_date("yesterday", "2023-05-24")
'2023-05-23'
>>> normalize_date("May 23", None) is None
True
>>> normalize_date("15 months ago", "2023-05-24")
'2022-02-24'

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
    m = re.fullmatch(r"(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten)\s+(day|week|month|year)s?\s+ago", t)
    if m:
        n = _NUMBERS.get(m.group(1)) or int(m.group(1))
        unit = m.group(2)
        if unit in {"day", "week"}:
            return (ref - dt.timedelta(days=n * (7 if unit == "week" else 1))).isoformat()
        # months and years back land on the same day of the month (clamped), at month precision at best
        months = ref.year * 12 + ref.month - 1 - n * (12 if unit == "year" else 1)
        year, month = divmod(months, 12)
        day = min(ref.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month])
        return dt.date(year, month + 1, day).isoformat()
    return None


_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10}
