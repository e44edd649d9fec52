"""``/xoadulieu``: a person deletes their own data, after a confirmation."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.flows import Action
from bot.core.messages import Choice, Reply
from bot.core.registry import Registry
from bot.i18n import N_
from bot.privacy import erase_person


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"


@dataclass(frozen=True)
class EraseChoice(Action, prefix="erase"):
    """The answer to "delete your data?"."""

    answer: Answer


def register(registry: Registry) -> None:
    """Register the data-deletion command."""

    @registry.command("xoadulieu", "deletemydata", description=N_("Delete your data from tocns"))
    def ask(ctx: Context, argument: str) -> list[Reply]:
        """Explain what will be deleted and ask for confirmation."""
        ctx.finish()
        text = ctx._(
            "This deletes your name, your linked chats, your roles and your settings from tocns. "
            "Figures you reported for your village and the record of changes you made stay, "
            "without your name, because they are the commune's records.\n"
            "Do you want to delete your data?"
        )
        choices = [
            Choice(ctx._("Yes, delete my data"), EraseChoice(Answer.YES).pack()),
            Choice(ctx._("No, keep it"), EraseChoice(Answer.NO).pack()),
        ]
        return [Reply(text=text, choices=choices)]

    @registry.on_choice(EraseChoice)
    def confirm(ctx: Context, data: EraseChoice) -> list[Reply]:
        """Delete the person's data when they confirm."""
        if data.answer is not Answer.YES:
            return [ctx.reply(N_("Nothing was deleted."))]
        result = erase_person(ctx.session, ctx.person_id)
        lines = [
            ctx._("Your data has been deleted. If you write again, you start as a new resident.")
        ]
        if result.kept_reports or result.kept_audit:
            lines.append(
                ctx._(
                    "Kept without your name: {reports} village figures and {audit} change records.",
                    reports=ctx.t.number(result.kept_reports),
                    audit=ctx.t.number(result.kept_audit),
                )
            )
        return [Reply(text="\n".join(lines))]
