"""The ``tocns`` command line: run the bot, chat in a terminal, and admin tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from bot.settings import Settings

Handler = Callable[[argparse.Namespace], int]


def _settings() -> Settings:
    return Settings()


def _setup_logging(settings: Settings, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING
        if quiet
        else getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs full request URLs, which contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def print_json(value: Any) -> None:
    """Print one JSON value on one line, keeping Vietnamese letters readable."""
    print(json.dumps(value, ensure_ascii=False))


def batch_lines(path: str, field: str) -> Iterator[str]:
    """The ``field`` of each JSON line of a file (``-`` for standard input)."""
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    with handle:
        for line in handle:
            if line.strip():
                yield str(json.loads(line).get(field, ""))


# ------------------------------------------------------------------ run / chat / db


def _console_demo(services: Any, name: str, base_url: str | None) -> None:
    """On the sample commune, make the console user a demo officer and print how to sign in."""
    from sqlmodel import Session

    from bot.admin.sample import DEMO_UNIT, DEMO_VILLAGE, ensure_demo_person

    with Session(services.engine) as session:
        person = ensure_demo_person(session, "console", f"console:{name}", name)
        if person is None or person.id is None:
            return
        link = None
        if base_url:
            from bot.web.auth import create_login_link

            link = create_login_link(session, person.id, services.clock(), base_url)
        session.commit()
    print(
        f"Dữ liệu mẫu: bạn thử với mọi vai trò — thành viên Tổ ({DEMO_VILLAGE}), cán bộ {DEMO_UNIT},"
        " cơ quan thường trực và quản trị. Thử gõ: vneid 45 cks 12, /tiendo, /nhiemvu, /duyet."
    )
    if link:
        print(f"Mở bảng điều khiển (liên kết dùng một lần, 15 phút): {link}")


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot: configured channels, web server and scheduler (console chat if no token)."""
    from bot.app import TocnsApp, build_services

    settings = _settings()
    console = not (settings.telegram_enabled or settings.zalo_enabled)
    _setup_logging(settings, quiet=console)
    services = build_services(settings)

    async def main() -> None:
        app = TocnsApp(services)
        await app.start()
        print(
            f"tocns đang chạy. Bảng điều khiển: http://{settings.listen_host}:{app.port}/",
            flush=True,
        )
        print(
            "Đăng nhập bảng điều khiển: cán bộ gửi /dashboard cho bot (tạo cán bộ: tocns admin invite"
            " --role office, rồi gõ /lienket MÃ), hoặc chạy: tocns web link --person TÊN_HOẶC_SỐ",
            flush=True,
        )
        try:
            if console:
                from bot.channels.console import run_console

                print(
                    "Chưa cấu hình TOCNS_TELEGRAM_TOKEN hay TOCNS_ZALO_TOKEN: mở trò chuyện trên màn hình."
                )
                name = args.as_name or "Khách"
                await asyncio.to_thread(
                    _console_demo, services, name, f"http://{settings.listen_host}:{app.port}"
                )
                await run_console(
                    app.dispatcher, name=name, files_dir=settings.data_dir / "console-files"
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


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal (the console channel)."""
    from bot.app import build_services, prepare_database
    from bot.channels.console import run_console
    from bot.core.dispatcher import Dispatcher

    settings = _settings()
    _setup_logging(settings, quiet=True)
    services = build_services(settings)
    prepare_database(services)
    name = args.as_name or "Khách"
    _console_demo(services, name, None)

    async def chat() -> None:
        try:
            await run_console(
                Dispatcher(services), name=name, files_dir=settings.data_dir / "console-files"
            )
        finally:
            await services.charts.close()  # the chart helper, if a chart was drawn

    asyncio.run(chat())
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply database migrations."""
    from db.engine import make_engine, upgrade

    settings = _settings()
    upgrade(make_engine(settings.effective_database_url))
    print("Cơ sở dữ liệu đã được cập nhật.")
    return 0


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The full command tree; every command is listed by ``tocns --help``."""
    parser = argparse.ArgumentParser(
        prog="tocns",
        description="tocns – trợ lý cho Tổ công nghệ số cộng đồng (Telegram, Zalo, bảng điều khiển).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(
        subparsers: Any, name: str, handler: Handler, help_text: str
    ) -> argparse.ArgumentParser:
        command = subparsers.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    run = add(sub, "run", cmd_run, "run the bot (console chat when no token is set)")
    run.add_argument("--as", dest="as_name", help="console: your display name")
    chat = add(sub, "chat", cmd_chat, "chat with the bot in this terminal")
    chat.add_argument("--as", dest="as_name", help="your display name")

    db = sub.add_parser("db", help="database: upgrade").add_subparsers(
        dest="db_command", metavar="ACTION"
    )
    add(db, "upgrade", cmd_db_upgrade, "apply database migrations")

    for register in EXTRA_COMMANDS:
        register(sub, add)
    epilog_lines = ["commands:"]
    for name, choice in sub.choices.items():
        nested = [a for a in choice._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for child in nested[0].choices:
                epilog_lines.append(f"  tocns {name} {child}")
        else:
            epilog_lines.append(f"  tocns {name}")
    parser.epilog = "\n".join(epilog_lines)
    return parser


# Feature modules add their command groups here (see bot/commands.py).
EXTRA_COMMANDS: list[Callable[[Any, Any], None]] = []


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tocns`` console script."""
    from bot import commands  # noqa: F401 - registers the feature command groups

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
