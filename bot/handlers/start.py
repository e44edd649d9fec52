"""Greeting, menu, help, cancel and language: what every person can always do."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Context
from bot.core.flows import Action
from bot.core.messages import Choice, Reply
from bot.core.registry import Registry
from bot.i18n import N_, SUPPORTED_LOCALES, translator
from db.models import Role

# Menu entries in display order: (command name, label msgid, roles that see it or None).
MENU = (
    ("huongdan", N_("📖 How-to guides"), None),
    ("baocao", N_("📝 Report village figures"), frozenset({Role.TEAM, Role.LEADER})),
    ("tiendo", N_("📊 Progress"), None),
    ("phananh", N_("📣 Feedback and requests"), None),  # #17: everyone reports; officers' queues
    ("nhiemvu", N_("📋 My unit's tasks"), frozenset({Role.UNIT})),
    ("duyet", N_("✅ Review evidence"), frozenset({Role.OFFICE, Role.ADMIN})),
    (
        "dashboard",
        N_("🖥 Dashboard"),
        frozenset(
            {Role.UNIT, Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN, Role.TEAM, Role.LEADER}
        ),
    ),
    ("dangky", N_("🔔 Get announcements"), frozenset({Role.RESIDENT})),
    ("trogiup", N_("❓ Help"), None),
)

# A small phone's screen: past this many entries, the last ones before "Help" give way
# (every command still works when typed, and /trogiup lists them).
MENU_LIMIT = 6

ROLE_INTROS = {
    Role.RESIDENT: N_(
        "• Ask me how to use VNeID, digital signatures, online public services, e-health books, bank transfers, and how to avoid scams."
    ),
    Role.TEAM: N_(
        "• Report your village's figures, e.g. \"vneid 45 cks 12\", and see your village's progress."
    ),
    Role.LEADER: N_("• As team leader, follow your village's reports and reminders."),
    Role.UNIT: N_("• See your unit's tasks, update progress and send evidence."),
    Role.OFFICE: N_("• Review evidence, follow red alerts and the whole plan's progress."),
    Role.COMMUNE_LEADER: N_("• Follow the whole plan's progress and red alerts."),
    Role.ADMIN: N_("• Set up villages, units, people and invite codes."),
}


@dataclass(frozen=True)
class CommandChoice(Action, prefix="cmd"):
    """Run a command from a button (a menu entry, "all tasks"…)."""

    name: str


@dataclass(frozen=True)
class LanguageChoice(Action, prefix="lang"):
    """Switch the person's language."""

    locale: str


def menu_choices(ctx: Context) -> list[Choice]:
    """The menu entries this person may use, as choices."""
    registry = ctx.services.registry
    choices = []
    for name, label, roles in MENU:
        entry = registry.commands.get(name)
        if entry is None:
            continue
        allowed = entry.roles if entry.roles is not None else roles
        if allowed is not None and not ctx.has_role(*allowed):
            continue
        choices.append(Choice(ctx._(label), CommandChoice(name).pack()))
    if len(choices) > MENU_LIMIT:
        choices = choices[: MENU_LIMIT - 1] + choices[-1:]  # "Help" stays, last
    return choices


def menu_reply(ctx: Context, message: str = N_("What would you like to do?")) -> Reply:
    """The main menu."""
    return Reply(text=ctx._(message), choices=menu_choices(ctx))


def register(registry: Registry) -> None:
    """Register the always-available commands."""

    @registry.command("start", "batdau", description=N_("Start and show the menu"))
    def start(ctx: Context, argument: str) -> list[Reply]:
        """Greet the person for their role and show the menu, or open a deep link."""
        payload = argument.strip()
        if payload:
            # A deep link "/start j_CODE" is handled as the choice "deeplink-j:CODE".
            prefix, _, value = payload.partition("_")
            entry = registry.typed_actions.get(f"deeplink-{prefix}")
            if entry is not None and value:
                try:
                    data = entry.data.unpack(value)
                except (ValueError, TypeError):
                    data = None
                if data is not None:
                    return entry.handler(ctx, data)
        ctx.finish()
        name = ctx.person.display_name.split(" ")[-1] if ctx.person.display_name else ""
        lines = [
            ctx._(
                "Hello {name}! I am the assistant of the commune's community digital technology team.",
                name=name,
            ).replace(" !", "!"),
            ctx._("I can help you:"),
        ]
        for role, intro in ROLE_INTROS.items():
            if role in ctx.roles:
                lines.append(ctx._(intro))
        lines.append(ctx._("Type your question at any time, or pick from the menu below."))
        return [Reply(text="\n".join(lines), choices=menu_choices(ctx))]

    @registry.command("menu", description=N_("Show the menu"))
    def menu(ctx: Context, argument: str) -> list[Reply]:
        """Show the main menu."""
        ctx.finish()
        return [menu_reply(ctx)]

    @registry.command("trogiup", "help", description=N_("Help and the list of commands"))
    def help_(ctx: Context, argument: str) -> list[Reply]:
        """List the commands this person may use."""
        lines = [ctx._("Commands you can use:")]
        for entry in registry.ordered_commands:
            if not entry.published:
                continue
            if entry.roles is not None and not ctx.has_role(*entry.roles):
                continue
            lines.append(f"/{entry.names[0]} – {ctx._(entry.description)}")
        lines.append(ctx._("You can also simply type your question, with or without accents."))
        return [Reply(text="\n".join(lines))]

    @registry.command("huy", "cancel", description=N_("Cancel what you are doing"))
    def cancel(ctx: Context, argument: str) -> list[Reply]:
        """Leave any flow in progress."""
        had_flow = ctx.state.flow is not None
        ctx.finish()
        message = (
            N_("Cancelled. Nothing was saved.") if had_flow else N_("There was nothing to cancel.")
        )
        return [menu_reply(ctx, message)]

    @registry.command(
        "ngonngu", "language", description=N_("Change language (Tiếng Việt / English)")
    )
    def language(ctx: Context, argument: str) -> list[Reply]:
        """Offer the supported languages."""
        labels = {"vi": "Tiếng Việt", "en": "English"}
        choices = [Choice(labels[code], LanguageChoice(code).pack()) for code in SUPPORTED_LOCALES]
        return [ctx.reply(N_("Choose your language:"), choices)]

    @registry.on_choice(LanguageChoice)
    def set_language(ctx: Context, data: LanguageChoice) -> list[Reply]:
        """Switch the person's language."""
        if data.locale in SUPPORTED_LOCALES:
            ctx.person.locale = data.locale
            ctx.session.add(ctx.person)
            ctx.t = translator(data.locale)
        return [menu_reply(ctx, N_("Language changed."))]

    @registry.on_choice(CommandChoice)
    def run_command(ctx: Context, data: CommandChoice) -> list[Reply]:
        """Run a menu entry's command."""
        entry = registry.commands.get(data.name)
        if entry is None:
            return [menu_reply(ctx)]
        if entry.roles is not None and not ctx.has_role(*entry.roles):
            return [menu_reply(ctx)]
        return entry.handler(ctx, "")
