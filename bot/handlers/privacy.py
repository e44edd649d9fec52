"""``/xoadulieu``: a person deletes their own data, after a confirmation."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.messages import Choice, Reply
from bot.core.registry import Registry
from bot.i18n import N_
from bot.privacy import erase_person


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
            Choice(ctx._("Yes, delete my data"), "erase:yes"),
            Choice(ctx._("No, keep it"), "erase:no"),
        ]
        return [Reply(text=text, choices=choices)]

    @registry.action("erase")
    def confirm(ctx: Context, answer: str) -> list[Reply]:
        """Delete the person's data when they confirm."""
        if answer != "yes":
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
