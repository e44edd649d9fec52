"""Reading submitted dashboard forms: each field strictly, each problem in words.

A form builder collects problems in a ``FormErrors`` (field name -> message id, with
parameters) and shows the form again with them, status 400, rather than a bare error
page: the person sees what to fix next to what they typed. Pure: no database, no request.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import N_, Translator
from bot.web.params import MAX_ID

_ID = re.compile(r"[1-9][0-9]{0,9}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_COUNT = re.compile(r"0|[1-9][0-9]{0,8}")
_TIME = re.compile(r"([0-9]{1,2})[:hg]([0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?")

MSG_REQUIRED = N_("Please fill this in.")
MSG_TOO_LONG = N_("At most {limit} characters, please.")
MSG_TOO_SHORT = N_("Please write at least {limit} characters.")
MSG_BAD_DATE = N_("Write the date as day/month/year, for example 30/06/2026.")
MSG_DATE_RANGE = N_("The date must fall between the years {first} and {last}.")
MSG_BAD_CHOICE = N_("Please choose from the list.")
MSG_BAD_NUMBER = N_("Write a whole number, 0 or more, without dots or commas.")
MSG_NO_FILE = N_("Choose a file to upload.")
MSG_FORM_PROBLEMS = N_("Please correct what is marked below.")
MSG_BAD_MOMENT = N_(
    "Write the day and time as day/month/year hour:minute, for example 30/06/2026 08:00."
)
MSG_PAST_MOMENT = N_("Choose a time later than now.")
MSG_FAR_MOMENT = N_("Choose a time within the next {days} days.")

FIRST_YEAR = 2000


@dataclass
class FormErrors:
    """The problems of a submitted form, by field name (message ids and their values)."""

    by_field: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def add(self, name: str, message_id: str, **params: Any) -> None:
        self.by_field.setdefault(name, (message_id, params))

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def texts(self, t: Translator) -> dict[str, str]:
        """Every problem in words, for the template (``errors[name]``)."""
        return {name: t.gettext(mid, **params) for name, (mid, params) in self.by_field.items()}


def text(
    form: Mapping[str, Any],
    name: str,
    errors: FormErrors,
    *,
    limit: int,
    required: bool = True,
    minimum: int = 0,
) -> str:
    """A one-line or multi-line text field, trimmed; control characters are refused."""
    raw = form.get(name, "")
    value = raw.strip() if isinstance(raw, str) else ""
    value = "".join(ch for ch in value if ch in "\n\t" or ord(ch) >= 32).replace("\r", "")
    if not value:
        if required:
            errors.add(name, MSG_REQUIRED)
        return ""
    if len(value) > limit:
        errors.add(name, MSG_TOO_LONG, limit=limit)
    elif len(value) < minimum:
        errors.add(name, MSG_TOO_SHORT, limit=minimum)
    return value


def choice(
    form: Mapping[str, Any],
    name: str,
    choices: Collection[str],
    errors: FormErrors,
    *,
    required: bool = True,
) -> str:
    """One of the offered values ("" when optional and left empty)."""
    raw = form.get(name, "")
    value = raw if isinstance(raw, str) else ""
    if value == "" and not required:
        return ""
    if value not in choices:
        errors.add(name, MSG_BAD_CHOICE)
        return ""
    return value


def row_id(
    form: Mapping[str, Any],
    name: str,
    allowed: Collection[int],
    errors: FormErrors,
    *,
    required: bool = True,
) -> int | None:
    """The id of one of the offered rows (a select of units, villages…)."""
    raw = form.get(name, "")
    if not isinstance(raw, str) or raw == "":
        if required:
            errors.add(name, MSG_BAD_CHOICE)
        return None
    if not _ID.fullmatch(raw) or int(raw) > MAX_ID or int(raw) not in allowed:
        errors.add(name, MSG_BAD_CHOICE)
        return None
    return int(raw)


def count(form: Mapping[str, Any], name: str, errors: FormErrors) -> int:
    """A whole number 0 … 999 999 999 in ASCII digits."""
    raw = form.get(name, "")
    value = raw.strip() if isinstance(raw, str) else ""
    if not _COUNT.fullmatch(value):
        errors.add(name, MSG_BAD_NUMBER if value else MSG_REQUIRED)
        return 0
    return int(value)


def parse_day(raw: str) -> dt.date | None:
    """A date typed as 30/06/2026 or sent by a date picker as 2026-06-30 (else None)."""
    raw = raw.strip()
    iso, dmy = _DATE.fullmatch(raw), _DMY.fullmatch(raw)
    try:
        if iso:
            return dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if dmy:
            return dt.date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
    except ValueError:
        return None
    return None


def date(
    form: Mapping[str, Any],
    name: str,
    errors: FormErrors,
    *,
    today: dt.date,
    required: bool = True,
) -> dt.date | None:
    """A date from 2000 to ten years ahead ("" : None when optional)."""
    raw = form.get(name, "")
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        if required:
            errors.add(name, MSG_REQUIRED)
        return None
    day = parse_day(value)
    if day is None:
        errors.add(name, MSG_BAD_DATE)
        return None
    first, last = dt.date(FIRST_YEAR, 1, 1), dt.date(today.year + 10, 12, 31)
    if not first <= day <= last:
        errors.add(name, MSG_DATE_RANGE, first=str(first.year), last=str(last.year))
        return None
    return day


def parse_moment(raw: str) -> tuple[dt.date, dt.time] | None:
    """A day and time typed as 30/06/2026 08:00 (or 08:00 30/06/2026), or sent by a
    date-time picker as 2026-06-30T08:00 (else None)."""
    parts = raw.strip().replace("T", " ").split()
    if len(parts) != 2:
        return None
    first, second = parts
    day_text, time_text = (second, first) if _TIME.fullmatch(first) else (first, second)
    day, clock = parse_day(day_text), _TIME.fullmatch(time_text)
    if day is None or clock is None:
        return None
    hour, minute = int(clock.group(1)), int(clock.group(2))
    if hour > 23 or minute > 59:
        return None
    return day, dt.time(hour, minute)


def moment(
    form: Mapping[str, Any],
    name: str,
    errors: FormErrors,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    within_days: int,
) -> dt.datetime | None:
    """An optional local day and time after ``now`` and within ``within_days``, in UTC."""
    raw = form.get(name, "")
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        return None
    parsed = parse_moment(value)
    if parsed is None:
        errors.add(name, MSG_BAD_MOMENT)
        return None
    local = dt.datetime.combine(parsed[0], parsed[1], tzinfo=tz)
    when = local.astimezone(dt.UTC)
    if when <= now:
        errors.add(name, MSG_PAST_MOMENT)
        return None
    if when > now + dt.timedelta(days=within_days):
        errors.add(name, MSG_FAR_MOMENT, days=str(within_days))
        return None
    return when
