"""Plays a dialogue on one channel against the running app and checks every answer.

One ``Stage`` per test module: the fake Telegram and Zalo servers, one running app and
our Zalo client. Before each dialogue the database is replaced by a fresh copy of the
migrated sample commune and the injected clock is set; people are then set up through
the real code only (invite codes made by the admin functions, ``/lienket CODE`` typed by
the person, ``/thon`` for a resident's village, ``/ngonngu`` for English).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shlex
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import MetaData, create_engine, text
from sqlmodel import Session, select

from bot.admin.invites import create_invite
from bot.admin.sample import load_sample_chats, load_sample_history, load_sample_people
from bot.app import TocnsApp
from bot.channels.zalo import ZaloSender
from bot.channels.zalo_client import ZaloClient
from bot.content.questions import unanswered
from bot.core.people import default_commune_id
from bot.dates import month_start
from bot.services import Services
from db.engine import make_engine
from db.models import Unit, Village
from tests.dialogues.channels import (
    TURN_TIMEOUT,
    Bubble,
    ConsoleDriver,
    Driver,
    HarnessError,
    Option,
    TelegramDriver,
    TelegramWatch,
    ZaloDriver,
    numbered_options,
)
from tests.dialogues.script import DEFAULT_NOW, INVITE_ROLES, Checks, Dialogue, Persona, Turn, fold
from tests.fakes.fixtures import ZALO_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI
from tests.helpers import FakeClock

REPO = Path(__file__).resolve().parents[2]


class DialogueMismatch(AssertionError):
    """The bot's answer is not what the dialogue expects (the only failure xfail accepts)."""


class SetupError(RuntimeError):
    """A person could not be set up (an invite refused…): the dialogue never started."""


# ------------------------------------------------------------------ databases


class Database:
    """The database the running app uses, replaced by a fresh copy before each dialogue.

    Two starting points: the migrated sample commune with its invented people (residents
    signed up for announcements, a team in two villages; no chats), and the same with four months of
    sample tallies (``state: {history: yes}``) loaded by the sample's own code at the
    suite's usual date, so that dialogues needing history do not load it each time.
    """

    url: str

    def reset(self, history: bool = False) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        pass


def load_people(url: str) -> None:
    """Load the sample commune's invented people, as `make run` does, into a database."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_sample_people(session)
            load_sample_chats(session)
            session.commit()
    finally:
        engine.dispose()


def load_history(url: str, today: dt.date) -> None:
    """Load the sample commune's past tallies, as `make run` does, into a database."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_sample_history(session, today)
            session.commit()
    finally:
        engine.dispose()


class SqliteDatabase(Database):
    """A file the app keeps open; a reset copies the prepared file into it.

    SQLite's online backup writes the prepared pages through a connection of its own,
    in one transaction, so the app's pooled connections stay valid and simply see the
    fresh commune at their next transaction.
    """

    def __init__(self, template: Path, work: Path) -> None:
        self.templates = {
            False: work.with_name("plain.sqlite3"),
            True: work.with_name("history.sqlite3"),
        }
        shutil.copyfile(template, self.templates[False])
        load_people(f"sqlite:///{self.templates[False]}")
        shutil.copyfile(self.templates[False], self.templates[True])
        load_history(f"sqlite:///{self.templates[True]}", DEFAULT_NOW.date())
        self.work = work
        self.url = f"sqlite:///{work}"
        self.reset()

    def reset(self, history: bool = False) -> None:
        source = sqlite3.connect(self.templates[history])
        target = sqlite3.connect(self.work)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()


class PostgresDatabase(Database):
    """One database copied once from the session's template, put back before each dialogue.

    ``CREATE DATABASE … TEMPLATE`` copies the system catalogs too and takes longer than
    most dialogues on a busy machine. Instead the prepared rows are kept in two schemas
    of the same database (``dialogue_plain``, ``dialogue_history``, outside the app's
    search path) and a reset is one server-side script: empty every table (children
    first), copy the prepared rows back (parents first), restore the sequences.
    """

    SCHEMAS = {False: "dialogue_plain", True: "dialogue_history"}

    def __init__(self, server: str, name: str) -> None:
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT")
        self.name = name
        self.url = server.rsplit("/", 1)[0] + f"/{name}"
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE tocns_template"))
        self.engine = create_engine(self.url)
        load_people(self.url)
        self.scripts = {False: self._keep(False)}
        load_history(self.url, DEFAULT_NOW.date())
        self.scripts[True] = self._keep(True)
        self.reset()

    def _keep(self, history: bool) -> str:
        """Copy every table's rows into a schema; return the script that puts them back."""
        schema = self.SCHEMAS[history]
        metadata = MetaData()
        metadata.reflect(self.engine)
        tables = [t.name for t in metadata.sorted_tables if t.name != "alembic_version"]
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            for table in tables:
                conn.execute(text(f'CREATE TABLE {schema}."{table}" AS TABLE public."{table}"'))
            sequences = conn.execute(
                text(
                    "SELECT pg_get_serial_sequence(format('public.%I', table_name), column_name)"
                    " FROM information_schema.columns WHERE table_schema = 'public'"
                    " AND pg_get_serial_sequence(format('public.%I', table_name), column_name)"
                    " IS NOT NULL"
                )
            ).scalars()
            values = [
                (
                    sequence,
                    *conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one(),
                )
                for sequence in sequences
            ]
        statements = [f'DELETE FROM public."{table}"' for table in reversed(tables)]
        statements += [
            f'INSERT INTO public."{table}" OVERRIDING SYSTEM VALUE SELECT * FROM {schema}."{table}"'
            for table in tables
        ]
        statements += [
            f"SELECT setval('{sequence}', {value}, {'true' if called else 'false'})"
            for sequence, value, called in values
        ]
        return ";\n".join(statements)

    def reset(self, history: bool = False) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self.scripts[history])

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
        self.admin.dispose()


# ------------------------------------------------------------------ the stage


@dataclass
class Stage:
    """Everything a module's dialogues share: fakes, the running app, the Zalo client."""

    services: Services
    app: TocnsApp
    database: Database
    clock: FakeClock
    telegram: FakeTelegramAPI
    zalo: FakeZaloAPI
    zalo_client: ZaloClient
    zalo_sender: ZaloSender
    watch: TelegramWatch
    data_dir: Path
    kind: str = "sqlite"

    def __repr__(self) -> str:
        return f"<stage on {self.kind}>"

    def fresh(self, dialogue: Dialogue) -> None:
        """A fresh copy of the sample commune, the clock at the dialogue's date."""
        state = dialogue.state
        # The prepared history is for the suite's usual month; another month loads its own.
        prepared = state.history and month_start(state.now.date()) == month_start(
            DEFAULT_NOW.date()
        )
        self.database.reset(history=prepared)
        self.clock.set(state.now)
        if state.history and not prepared:
            with Session(self.services.engine) as session:
                load_sample_history(session, self.services.today())
                session.commit()

    def invite(self, role: str, village: str | None, unit: str | None) -> str:
        """An invite code made the way `tocns admin invite` makes it."""
        with Session(self.services.engine) as session:
            commune_id = default_commune_id(session)
            assert commune_id is not None
            village_id = unit_id = None
            if role in ("team", "leader"):
                village_id = session.exec(select(Village.id).where(Village.name == village)).first()
                if village_id is None:
                    raise SetupError(f"there is no village called {village!r}")
            if role == "unit":
                unit_id = session.exec(select(Unit.id).where(Unit.name == unit)).first()
                if unit_id is None:
                    raise SetupError(f"there is no unit called {unit!r}")
            code = create_invite(
                session,
                commune_id=commune_id,
                role=role,
                village_id=village_id,
                unit_id=unit_id,
                now=self.clock(),
            )
            session.commit()
            return code

    def unanswered_count(self) -> int:
        """How many unanswered questions are logged (each repetition counts)."""
        with Session(self.services.engine) as session:
            return sum(row.count for row in unanswered(session, limit=10_000))

    def driver(self, channel: str, name: str | None) -> Driver:
        if channel == "console":
            return ConsoleDriver(self.app.dispatcher, name)
        if channel == "telegram":
            return TelegramDriver(self.telegram, self.watch, name)
        return ZaloDriver(self.zalo, self.zalo_client, self.zalo_sender, self.app.dispatcher, name)


@contextlib.asynccontextmanager
async def open_stage(
    services: Services,
    database: Database,
    clock: FakeClock,
    telegram: FakeTelegramAPI,
    zalo: FakeZaloAPI,
) -> AsyncIterator[Stage]:
    """Start the app (Telegram polling the fake) and our Zalo client; stop them after."""
    app = TocnsApp(services)
    await app.start(web_server=False, reminders=False)
    try:
        assert app.telegram is not None, "the stage needs the Telegram channel"
        watch = TelegramWatch(app.telegram)
        async with ZaloClient(ZALO_TEST_TOKEN, base_url=zalo.base_url) as client:
            yield Stage(
                services=services,
                app=app,
                database=database,
                clock=clock,
                telegram=telegram,
                zalo=zalo,
                zalo_client=client,
                zalo_sender=ZaloSender(client, services),
                watch=watch,
                data_dir=services.settings.data_dir,
            )
    finally:
        await app.stop()
        close_connections(services)
        database.drop()


def close_connections(services: Services) -> None:
    """Close every pooled connection of the app's engines (before the database is dropped)."""
    services.engine.dispose()
    if "quick_engine" in vars(services):
        services.quick_engine.dispose()


# ------------------------------------------------------------------ transcripts


@dataclass
class Line:
    who: str
    said: str
    bubbles: list[Bubble]
    setup: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    """What everybody typed and saw, printed whole when a dialogue fails."""

    dialogue: Dialogue
    channel: str
    database: str
    lines: list[Line] = field(default_factory=list)

    def render(self) -> str:
        d = self.dialogue
        head = f"══ {d.file}.yaml:{d.line} “{d.name}” on {self.channel} ({self.database}) ══"
        out = [head, f"   {d.who.describe()}"]
        for other in d.state.others:
            out.append(f"   and {other.who.describe()}")
        if d.xfail and d.expected_to_fail_on(self.channel):
            out.append(f"   expected to fail: {d.xfail}")
        for line in self.lines:
            marker = "·" if line.setup else "›"
            out.append(f"{line.who} {marker} {line.said}")
            if not line.bubbles:
                out.append("      (no answer)")
            for bubble in line.bubbles:
                for row in bubble.render().splitlines() or [""]:
                    out.append(f"      │ {row}")
                out.append("      └")
            for problem in line.problems:
                out.append(f"   ✗ {problem}")
        return "\n".join(out)


# ------------------------------------------------------------------ playing


class Player:
    """Plays one dialogue on one channel of a stage."""

    def __init__(self, stage: Stage, dialogue: Dialogue, channel: str, database: str) -> None:
        self.stage = stage
        self.dialogue = dialogue
        self.channel = channel
        self.transcript = Transcript(dialogue, channel, database)
        self.drivers: list[Driver] = []

    async def play(self) -> Transcript:
        __tracebackhide__ = True
        dialogue = self.dialogue
        self.stage.fresh(dialogue)
        try:
            if dialogue.launch is not None:
                person: Driver = CommandLineDriver(self.stage, dialogue.launch)
                self.drivers.append(person)
                await person.open()
                self._note(dialogue.launch, list(person.seen), setup=True, who="$")
            else:
                for other in dialogue.state.others:
                    driver = await self._join(other.who)
                    for turn in other.turns:
                        await self._act(driver, other.who, turn)
                person = await self._join(dialogue.who)
            for turn in dialogue.turns:
                await self._act(person, dialogue.who, turn)
        finally:
            for driver in self.drivers:
                await driver.close()
        return self.transcript

    def _note(
        self, said: str, bubbles: list[Bubble], *, setup: bool = False, who: str = ""
    ) -> Line:
        line = Line(who, said, bubbles, setup)
        self.transcript.lines.append(line)
        return line

    async def _join(self, persona: Persona) -> Driver:
        """Open the person's chat and give them their roles, village and language."""
        driver = self.stage.driver(self.channel, persona.name)
        self.drivers.append(driver)
        await driver.open()
        who = persona.name or "(no name)"
        for role in persona.roles:
            if role == "resident":
                continue
            code = self.stage.invite(INVITE_ROLES[role], persona.village, persona.unit)
            said = f"/lienket {code}"
            bubbles = await driver.type(said)
            line = self._note(said, bubbles, setup=True, who=who)
            answer = _answer(bubbles)
            if "Liên kết thành công" not in answer:
                line.problems.append("the invite code was not accepted")
                raise SetupError(self.transcript.render())
        if persona.village and not any(r in ("team", "leader") for r in persona.roles):
            bubbles = await driver.type("/thon")
            self._note("/thon", bubbles, setup=True, who=who)
            option = find_option(driver.options(), persona.village)
            if option is None:
                raise SetupError(self.transcript.render())
            bubbles = await driver.press(option)
            self._note(f"(picks {persona.village})", bubbles, setup=True, who=who)
        if persona.locale == "en":
            bubbles = await driver.type("/ngonngu")
            self._note("/ngonngu", bubbles, setup=True, who=who)
            option = find_option(driver.options(), "English")
            if option is None:
                raise SetupError(self.transcript.render())
            bubbles = await driver.press(option)
            self._note("(picks English)", bubbles, setup=True, who=who)
        return driver

    async def _act(self, driver: Driver, persona: Persona, turn: Turn) -> None:
        __tracebackhide__ = True
        if self.channel not in turn.on:
            return
        if turn.at is not None:
            self.stage.clock.set(turn.at)
        who = persona.name or "(no name)"
        checks = turn.checks_on(self.channel)
        before = self.stage.unanswered_count() if checks.unanswered is not None else 0
        if turn.action == "pick":
            option = find_option(driver.options(), turn.value)
            if option is None:
                line = self._note(turn.describe(), [], who=who)
                offered = ", ".join(f"{o.number}. {o.label}" for o in driver.options())
                line.problems.append(
                    f"no choice “{turn.value}” was offered (offered: {offered or 'none'})"
                )
                raise DialogueMismatch(self.transcript.render())
            bubbles = await driver.press(option)
            said = f"(picks {option.number}. {option.label})"
        elif turn.action == "photo":
            bubbles = await driver.photo(turn.value)
            said = turn.describe()
        else:
            bubbles = await driver.type(turn.value)
            said = turn.value
        line = self._note(said, bubbles, who=who)
        line.problems.extend(self._problems(checks, bubbles, before))
        if line.problems:
            raise DialogueMismatch(self.transcript.render())

    def _problems(self, checks: Checks, bubbles: list[Bubble], before: int) -> list[str]:
        answer = _answer(bubbles)
        problems = []
        if not bubbles:
            problems.append("the bot did not answer")
        for pattern in checks.expect:
            if not pattern.found_in(answer):
                problems.append(f"expected {pattern.source!r} in the answer")
        for pattern in checks.avoid:
            if pattern.found_in(answer):
                problems.append(f"the answer must not contain {pattern.source!r}")
        if checks.max_lines is not None and self.channel != "console":
            for bubble in bubbles:
                if bubble.lines > checks.max_lines:
                    problems.append(
                        f"a message has {bubble.lines} lines, more than {checks.max_lines}"
                    )
        offered = next((b.options for b in reversed(bubbles) if b.options), [])
        if checks.max_choices is not None and len(offered) > checks.max_choices:
            problems.append(f"{len(offered)} choices offered, more than {checks.max_choices}")
        if checks.max_items is not None:
            commands = sum(
                1 for b in bubbles for row in b.text.splitlines() if row.lstrip().startswith("/")
            )
            items = len(offered) + commands
            if items > checks.max_items:
                problems.append(
                    f"{items} items shown ({len(offered)} choices, {commands} commands), "
                    f"more than {checks.max_items}"
                )
        if checks.unanswered is not None:
            logged = self.stage.unanswered_count() - before
            if logged and not checks.unanswered:
                problems.append("the message was logged as an unanswered question")
            if not logged and checks.unanswered:
                problems.append("the question was not logged as unanswered")
        return problems


def _answer(bubbles: list[Bubble]) -> str:
    return "\n\n".join(bubble.render() for bubble in bubbles)


def find_option(options: list[Option], wanted: str) -> Option | None:
    """The choice picked by its number ("2") or by (part of) its label ("Sửa")."""
    if wanted.strip().isdigit():
        number = int(wanted)
        return next((o for o in options if o.number == number), None)
    folded = fold(wanted)
    exact = [o for o in options if fold(o.label) == folded]
    if exact:
        return exact[0]
    return next((o for o in options if folded in fold(o.label)), None)


# ------------------------------------------------------------------ the command line


class CommandLineDriver(Driver):
    """`tocns chat …` run as a program on a copy of the stage's database (console only)."""

    channel = "console"

    def __init__(self, stage: Stage, command: str) -> None:
        super().__init__(None)
        self.stage = stage
        self.command = command
        self.process: asyncio.subprocess.Process | None = None
        self.buffer = ""
        self.ended = False

    async def open(self) -> None:
        words = shlex.split(self.command)
        if words[:1] != ["tocns"]:
            raise HarnessError("`launch` runs a tocns command, e.g. tocns chat --as An")
        data_dir = self.stage.data_dir / "cli"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TOCNS_") and key != "PYTHONPATH"
        }
        env.update(
            TOCNS_DATA_DIR=str(data_dir),
            TOCNS_DATABASE_URL=self.stage.database.url,
            TOCNS_CHART_HELPER="false",
            TOCNS_SAMPLE_HISTORY="false",
            PYTHONPATH=str(REPO),
        )
        script = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            *words[1:],
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=str(data_dir),
        )
        self.seen.append(Bubble(await self._read(), []))

    async def _read(self) -> str:
        """Everything printed until the next "> " prompt (or the end of the program)."""
        assert self.process is not None and self.process.stdout is not None
        chunks = []
        while True:
            try:
                data = await asyncio.wait_for(self.process.stdout.read(4096), TURN_TIMEOUT * 3)
            except TimeoutError as error:
                raise HarnessError(f"`{self.command}` did not answer") from error
            if not data:
                self.ended = True
                break
            chunks.append(data.decode("utf-8", "replace"))
            joined = "".join(chunks)
            if joined.endswith("> "):
                return joined[:-2].strip("\n")
        return "".join(chunks).strip("\n")

    async def type(self, said: str) -> list[Bubble]:
        if self.ended or self.process is None or self.process.stdin is None:
            return self._seen([Bubble("(the program has ended)")])
        self.process.stdin.write((said + "\n").encode())
        await self.process.stdin.drain()
        answer = await self._read()
        return self._seen([Bubble(answer, numbered_options(answer))])

    async def close(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), TURN_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
