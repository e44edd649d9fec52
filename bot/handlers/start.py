"""Greeting, menu, help, cancel and language: what every person can always do."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.flows import Action
from bot.core.messages import Choice, Reply
from bot.core.registry import Command, Registry
from bot.i18n import N_, SUPPORTED_LOCALES, translator
from bot.text import fold
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


MENU_SIZE = 6  # a small phone's screen: the menu and /trogiup never show more
# Which menu entries stay when a person's roles offer more than fit (lower first).
MENU_RANK = {
    "baocao": 0,
    "nhiemvu": 0,
    "duyet": 0,
    "huongdan": 1,
    "tiendo": 2,
    "phananh": 2,
    "dashboard": 3,
}
# The everyday commands /trogiup lists first, after the person's own role's commands.
HELP_FIRST = ("huongdan", "dangky", "trogiup", "huy", "tiendo", "lienket")
HELP_MORE = N_("To see all commands, type: /trogiup tất cả")


_THANKS = re.compile(
    r"^(?:(?:xin |da |vang |ok |oke )?(?:cam on|cam ta|thank you|thanks|thank|tks|thks|thanks you)"
    r"|ok cam on)(?: (?:ban|bot|em|anh|chi|nhieu|nhe|nha|a|ha|lam|rat nhieu|nhieu nhe|so much|a)){0,3}$"
)


# "ừ", "dạ", "vâng", "ok", "👍": an acknowledgement, answered briefly (never a question).
_ACKNOWLEDGEMENTS = frozenset(
    {
        "u",
        "uh",
        "um",
        "um um",
        "u u",
        "da",
        "da a",
        "vang",
        "vang a",
        "da vang",
        "ok",
        "oke",
        "okie",
        "okay",
        "ok a",
        "ok nhe",
        "oke nhe",
        "duoc",
        "duoc roi",
        "roi",
        "u nhe",
        "da vang a",
        # "có" / "không" with nothing asked: the answer to a question already gone.
        "co",
        "co a",
        "khong",
        "khong a",
        "ko",
        "dong y",
        "nhat tri",
    }
)
THUMBS = frozenset({"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "👌", "🙏"})
ACKNOWLEDGED = N_("👍 Noted. Message me whenever you need anything.")


def is_acknowledgement(text: str) -> bool:
    """Whether the message is only "ừ", "dạ", "vâng", "ok" or a 👍."""
    if text.strip() in THUMBS:
        return True
    words = " ".join(re.sub(r"[^\w\s]", " ", fold(text[:40])).split())
    return words in _ACKNOWLEDGEMENTS


def is_thanks(text: str) -> bool:
    """Whether the message is only a thank-you ("cảm ơn", "cam on nhieu", "thanks")."""
    words = " ".join(re.sub(r"[^\w\s]", " ", fold(text[:80])).split())
    return bool(_THANKS.match(words))


def menu_choices(ctx: Context) -> list[Choice]:
    """The menu entries this person may use, as choices: at most ``MENU_SIZE``."""
    registry = ctx.services.registry
    allowed_names = []
    for name, _label, roles in MENU:
        entry = registry.commands.get(name)
        if entry is None:
            continue
        allowed = entry.roles if entry.roles is not None else roles
        if allowed is not None and not ctx.has_role(*allowed):
            continue
        allowed_names.append(name)
    if len(allowed_names) > MENU_SIZE:
        # Help is always there; the person's own work comes before everything else.
        others = [name for name in allowed_names if name != "trogiup"]
        ranked = sorted(others, key=lambda name: MENU_RANK.get(name, 9))[: MENU_SIZE - 1]
        allowed_names = [name for name in allowed_names if name in ranked or name == "trogiup"]
    labels = {name: label for name, label, _roles in MENU}
    return [Choice(ctx._(labels[name]), CommandChoice(name).pack()) for name in allowed_names]


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
        name = ctx.call_name
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

    def commands_for(ctx: Context) -> list[Command]:
        return [
            entry
            for entry in registry.ordered_commands
            if entry.published and (entry.roles is None or ctx.has_role(*entry.roles))
        ]

    def help_reply(ctx: Context, entries: list[Command], *, more: bool) -> list[Reply]:
        lines = [ctx._("Commands you can use:")]
        lines += [f"/{entry.names[0]} – {ctx._(entry.description)}" for entry in entries]
        lines.append(ctx._("You can also simply type your question, with or without accents."))
        if more:
            # Text, not a button: the buttons of the message before stay the ones to press.
            lines.append(ctx._(HELP_MORE))
        return [Reply(text="\n".join(lines))]

    @registry.command("trogiup", "help", description=N_("Help and the list of commands"))
    def help_(ctx: Context, argument: str) -> list[Reply]:
        """List the main commands for this person's roles; every command one step away."""
        entries = commands_for(ctx)
        if fold(argument) in ("tat ca", "tatca", "all", "day du", "het"):
            return help_reply(ctx, entries, more=False)
        own = [entry for entry in entries if entry.roles is not None]
        everyday = sorted(
            (entry for entry in entries if entry.roles is None and entry.names[0] in HELP_FIRST),
            key=lambda entry: HELP_FIRST.index(entry.names[0]),
        )
        # The person's own work first (three at most), then the everyday commands.
        short = (own[:3] + everyday)[: MENU_SIZE - 1]
        return help_reply(ctx, short, more=len(short) < len(entries))

    @registry.text
    def thanks(ctx: Context, text: str) -> list[Reply] | None:
        """Answer a thank-you briefly; everything else is left to the other handlers."""
        if is_acknowledgement(text):
            return [ctx.reply(ACKNOWLEDGED)]
        if not is_thanks(text):
            return None
        return [ctx.reply(N_("You're welcome! Message me whenever you need anything."))]

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
