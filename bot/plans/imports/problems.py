"""What can be wrong with a plan file: a message id, its values, and the sheet and row.

A parameter may itself be a ``ReadableError`` (a deadline or target that cannot be
read): it is rendered in the same language as the problem around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import ReadableError
from bot.i18n import N_, Translator

MSG_WHERE = N_("{sheet}, row {row}: {problem}")
MSG_WHERE_SHEET = N_("{sheet}: {problem}")
MSG_FILE_SHAPE = N_("The file does not describe a plan (plan, units, indicators, tasks).")


@dataclass(frozen=True)
class PlanProblem:
    """One thing wrong with a plan file, located by sheet and row."""

    sheet: str
    row: int | None
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, t: Translator) -> str:
        """The problem in words, e.g. "Nhiệm vụ, dòng 12: ..."."""
        params = {
            key: value.render(t) if isinstance(value, ReadableError) else value
            for key, value in self.params.items()
        }
        message = t.gettext(self.message_id, **params)
        if not self.sheet:
            return message
        if self.row is None:
            return t.gettext(MSG_WHERE_SHEET, sheet=self.sheet, problem=message)
        return t.gettext(MSG_WHERE, sheet=self.sheet, row=self.row, problem=message)

    def to_json(self, t: Translator) -> dict[str, Any]:
        """{"sheet", "row", "message"} for --json output."""
        return {"sheet": self.sheet, "row": self.row, "message": self.text(t)}
