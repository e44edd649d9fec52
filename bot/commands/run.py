"""``tocns run``, ``tocns chat`` and ``tocns db upgrade``: the bot itself and its database."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

from bot.commands.base import CliArgs, CommandTree
from bot.i18n import N_, Translator
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.services import Services

MSG_RUNNING = N_("tocns is running. Dashboard: {url}")
MSG_SIGN_IN = N_(
    "To sign in to the dashboard: an officer sends /dashboard to the bot (create an officer "
    "with: tocns admin invite --role office, then type /lienket CODE), or run: "
    "tocns web link --person NAME_OR_NUMBER"
)
MSG_NO_TOKEN = N_(
    "Neither TOCNS_TELEGRAM_TOKEN nor TOCNS_ZALO_TOKEN is set: chatting in this terminal."
)
MSG_GUEST = N_("Guest")
MSG_DEMO = N_(
    "Sample data: you try every role at once — team member ({village}), officer of {unit}, "
    "standing office and admin. Try typing: vneid 45 cks 12, /tiendo, /nhiemvu, /duyet."
)
MSG_DEMO_ROLE = N_(
    "Sample data: you are {role}. Other roles: tocns chat --as NAME --role "
    "resident|team|officer|office|admin."
)
ROLE_NAMES = {
    "resident": N_("a resident"),
    "team": N_("a team member of {village}"),
    "officer": N_("an officer of {unit}"),
    "office": N_("the standing office"),
    "admin": N_("the commune admin"),
}
MSG_DEMO_LINK = N_("Open the dashboard (one-time link, 15 minutes): {link}")
MSG_FIRST_ADMIN = N_(
    "No admin yet. The first admin opens this one-time link (15 minutes) to create the "
    "commune: {link}"
)
MSG_DB_UPGRADED = N_("The database is up to date.")


def _console_demo(
    services: Services, t: Translator, name: str, base_url: str | None, role: str | None = None
) -> None:
    """On the sample commune, make the console user a demo person (every role, or ``role``)
    and print how to sign in."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.admin.sample import DEMO_UNIT, DEMO_VILLAGE, ensure_demo_person
    from bot.web.auth import create_login_link

    with Session(services.engine) as session:
        person = ensure_demo_person(session, "console", f"console:{name}", name, role)
        if person is None or person.id is None:
            return
        link = None
        if base_url:
            link = create_login_link(session, person.id, services.clock(), base_url)
        session.commit()
    if role:
        who = t.gettext(ROLE_NAMES[role], village=DEMO_VILLAGE, unit=DEMO_UNIT)
        print(t.gettext(MSG_DEMO_ROLE, role=who))
    else:
        print(t.gettext(MSG_DEMO, village=DEMO_VILLAGE, unit=DEMO_UNIT))
    if link:
        print(t.gettext(MSG_DEMO_LINK, link=link))


def _first_admin(services: Services, t: Translator, base_url: str) -> None:
    """On a database with no admin, print a one-time sign-in link for the first admin."""
    from sqlmodel import Session

    from bot.web.auth import first_admin_link

    with Session(services.engine) as session:
        link = first_admin_link(session, services.clock(), base_url)
        session.commit()
    if link:
        print(t.gettext(MSG_FIRST_ADMIN, link=link), flush=True)


def cmd_run(args: CliArgs) -> int:
    """Run the bot: configured channels, web server and scheduler (console chat if no token)."""
    from bot.app import TocnsApp, build_services
    from bot.channels.console import run_console
    from bot.web.auth import dashboard_base_url

    settings, t = args.settings, args.t
    console = not (settings.telegram_enabled or settings.zalo_enabled)
    setup_logging(settings, quiet=console)
    services = build_services(settings)

    async def main() -> None:
        app = TocnsApp(services)
        await app.start(sample=settings.sample)
        base_url = dashboard_base_url(
            settings.public_base_url, None, settings.listen_host, app.port or settings.listen_port
        )
        print(t.gettext(MSG_RUNNING, url=base_url + "/"), flush=True)
        print(t.gettext(MSG_SIGN_IN), flush=True)
        await asyncio.to_thread(_first_admin, services, t, base_url)
        try:
            if console:
                print(t.gettext(MSG_NO_TOKEN))
                name = args.as_name or t.gettext(MSG_GUEST)
                await asyncio.to_thread(_console_demo, services, t, name, base_url)
                await run_console(
                    app.dispatcher, name=name, files_dir=settings.data_dir / "console-files", t=t
                )
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError):
                        loop.add_signal_handler(sig, stop.set)
                await stop.wait()
        finally:
            await app.stop()

    asyncio.run(main())
    return 0


def cmd_chat(args: CliArgs) -> int:
    """Chat with the bot in this terminal (the console channel)."""
    from bot.app import build_services, prepare_database
    from bot.channels.console import run_console
    from bot.core.dispatcher import Dispatcher

    settings, t = args.settings, args.t
    services = build_services(settings)
    prepare_database(services, sample=settings.sample)
    name = args.as_name or t.gettext(MSG_GUEST)
    _console_demo(services, t, name, None, args.role)

    async def chat() -> None:
        try:
            await run_console(
                Dispatcher(services),
                name=name,
                files_dir=settings.data_dir / "console-files",
                t=t,
            )
        finally:
            await services.charts.close()  # the chart helper, if a chart was drawn

    asyncio.run(chat())
    return 0


def cmd_db_upgrade(args: CliArgs) -> int:
    """Apply database migrations."""
    from db.engine import make_engine, setup_lock, upgrade

    engine = make_engine(args.settings.effective_database_url)
    with setup_lock(engine):  # not while a starting worker migrates
        upgrade(engine)
    engine.dispose()
    print(args.t.gettext(MSG_DB_UPGRADED))
    return 0


def register(tree: CommandTree) -> None:
    """Add ``run``, ``chat`` and the ``db`` group."""
    _ = tree.t.gettext
    run = tree.command("run", cmd_run, N_("run the bot (console chat when no token is set)"))
    run.add_argument("--as", dest="as_name", help=_("console: your display name"))
    chat = tree.command("chat", cmd_chat, N_("chat with the bot in this terminal"))
    chat.add_argument("--as", dest="as_name", help=_("your display name"))
    chat.add_argument(
        "--role",
        choices=sorted(ROLE_NAMES),
        help=_("sample commune: try one role only (default: every role at once)"),
    )
    db = tree.group("db", N_("database: upgrade"))
    db.command("upgrade", cmd_db_upgrade, N_("apply database migrations"))
