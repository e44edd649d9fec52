"""The buttons offered on a task or an indicator, wherever it is shown.

A unit's task list, a task card, a reminder and a review notice all offer the same
actions; the data behind each button is defined once here (``bot/handlers/tasks.py``
and ``bot/handlers/indicators.py`` handle them).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.flows import Action


@dataclass(frozen=True)
class TaskChoice(Action, prefix="task"):
    """Open a task's card."""

    task_id: int


@dataclass(frozen=True)
class TaskProgressChoice(Action, prefix="taskprog"):
    """Report a task's progress (a percentage, then a note)."""

    task_id: int


@dataclass(frozen=True)
class TaskEvidenceChoice(Action, prefix="taskev"):
    """Send evidence for a task."""

    task_id: int


@dataclass(frozen=True)
class TaskDoneChoice(Action, prefix="taskdone"):
    """Report a task done (with evidence)."""

    task_id: int


@dataclass(frozen=True)
class TaskPageChoice(Action, prefix="taskpage"):
    """Another page of the unit's tasks."""

    offset: int


@dataclass(frozen=True)
class IndicatorValueChoice(Action, prefix="indval"):
    """Enter an indicator's actual value (with evidence)."""

    indicator_id: int
