"""``tocns reminders`` / ``tocns broadcast`` / ``tocns outbox``: preview, policy, announcements, delivery."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.commands.base import (
    CliArgs,
    CommandTree,
    open_services,
    print_json,
    require_commune,
)
from bot.core.errors import UserError
from bot.i18n import N_
from bot.reminders.policy import ReminderPolicy, load_policy, set_policy_value

KIND_WORDS = {
    "deadline": N_("Deadline reminder"),
    "overdue": N_("Overdue reminder"),
    "coordinating": N_("Coordinating"),
    "period": N_("Period report"),
    "red": N_("Red alert"),
    "digest": N_("Weekly digest"),
    "tally": N_("Figures reminder (team)"),
    "tally_leader": N_("Figures reminder (team leader)"),
    "tally_office": N_("Villages not reported"),
    "broadcast": N_("Announcement"),
    "feedback_due": N_("Report deadline reminder"),
    "feedback_late": N_("Report late (to the office and leaders)"),
}
DEADLINE_WORDS = {"answer": N_("first answer"), "close": N_("settling")}
STATUS_WORDS = {
    "pending": N_("waiting to be sent"),
    "claimed": N_("being picked up"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "missed": N_("missed"),
    "blocked": N_("blocked"),
    "cancelled": N_("cancelled"),
    "unknown": N_("not known whether it arrived"),
}

MSG_BAD_DATE = N_("Not a valid date: {value} (write it as 2026-03-10)")
MSG_PREVIEW = N_("Reminders planned from {start} for {days} days: {count} messages")
MSG_PREVIEW_PLAN = N_(
    "Reminders planned from {start} for {days} days (plan {plan}): {count} messages"
)
MSG_COL_TIME = N_("Time")
MSG_COL_RECIPIENT = N_("Recipient")
MSG_COL_TASK = N_("Task/report")
MSG_COL_KIND = N_("Kind")
MSG_NO_OFFICER = N_("(no officer yet)")
MSG_KIND_DUE = N_("{kind}, due {due}")
MSG_UNSTAFFED = N_(
    "Units without an officer to receive reminders (give them a unit invite code so they "
    "get their reminders): {units}"
)
MSG_POLICY = N_("Reminder policy of {commune}:")
MSG_NOT_SAVED = N_("Not saved: {reason}")
MSG_SAVED = N_("Saved. The coming reminders are worked out again within a minute.")
MSG_UNREADABLE = N_("Could not read the file: {reason}")
MSG_NOT_A_MAPPING = N_("The file must be a table of key: value.")
MSG_DEFAULT_SENDER = N_("People's Committee of {commune}")
MSG_QUEUED = N_("Announcement number {broadcast} queued for {group}: {count} recipients.")
MSG_SENT_WHEN_RUNNING = N_("It is sent while tocns run is running (within a minute).")
MSG_OUTBOX = N_("Message queue:")
MSG_ATTENTION = N_("To look at (send again with: tocns outbox retry ID):")
MSG_RETRYING = N_("Message #{id} will be sent again.")
MSG_NOT_RETRIED = N_("Could not send message #{id} again (it does not exist, or was sent).")


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ------------------------------------------------------------------ reminders preview


def cmd_preview(args: CliArgs) -> int:
    """Print what would be sent, when and to whom."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.reminders.planner import preview

    t = args.t
    services = open_services(args.settings)
    tz = services.tz
    if args.date_from:
        try:
            day = dt.date.fromisoformat(args.date_from)
        except ValueError:
            print(t.gettext(MSG_BAD_DATE, value=args.date_from))
            return 1
        start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz).astimezone(dt.UTC)
    else:
        start = services.clock()
    end = start + dt.timedelta(days=args.days)
    with Session(services.engine) as session:
        commune, _ = require_commune(session, args)
        items = preview(session, commune, start, end, tz, plan=args.plan)
    if args.json:
        print_json(items)
        return 0
    counts = {"start": t.datetime(start.astimezone(tz)), "days": args.days, "count": len(items)}
    if args.plan:
        print(t.gettext(MSG_PREVIEW_PLAN, plan=args.plan, **counts))
    else:
        print(t.gettext(MSG_PREVIEW, **counts))
    if not items:
        return 0
    print(
        f"{t.gettext(MSG_COL_TIME):<22} {t.gettext(MSG_COL_RECIPIENT):<42} "
        f"{t.gettext(MSG_COL_TASK):<17} {t.gettext(MSG_COL_KIND)}"
    )
    for item in items:
        when = t.day_and_time(dt.datetime.fromisoformat(item["at"]))
        who = item["recipient"]
        if not item["staffed"] and (item["task"] is not None or item.get("report")):
            who += " " + t.gettext(MSG_NO_OFFICER)
        kind_id = KIND_WORDS.get(item["kind"])
        kind = t.gettext(kind_id) if kind_id else item["kind"]
        if item.get("deadline") in DEADLINE_WORDS:
            kind += " – " + t.gettext(DEADLINE_WORDS[item["deadline"]])
        if item.get("due"):
            kind = t.gettext(
                MSG_KIND_DUE, kind=kind, due=t.date(dt.date.fromisoformat(item["due"]))
            )
        print(f"{when:<22} {who[:42]:<42} {item['task'] or item.get('report') or '—':<17} {kind}")
    unstaffed = sorted(
        {i["recipient"] for i in items if not i["staffed"] and i["task"] is not None}
    )
    if unstaffed:
        print("\n" + t.gettext(MSG_UNSTAFFED, units=", ".join(unstaffed)))
    return 0


# ------------------------------------------------------------------ policy


def cmd_policy_show(args: CliArgs) -> int:
    """Show the commune's reminder policy."""
    from sqlmodel import Session

    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune, _ = require_commune(session, args)
        policy = load_policy(commune.settings)
    data = policy.model_dump(mode="json")
    if args.json:
        print_json(data)
    else:
        print(args.t.gettext(MSG_POLICY, commune=commune.name))
        for key, value in data.items():
            print(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    return 0


def _save_policy(args: CliArgs, change: Callable[[ReminderPolicy], ReminderPolicy]) -> int:
    from pydantic import ValidationError
    from sqlmodel import Session

    t = args.t
    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune, _ = require_commune(session, args)
        try:
            policy = change(load_policy(commune.settings))
        except (ValidationError, ValueError) as error:
            print(t.gettext(MSG_NOT_SAVED, reason=error))
            return 1
        commune.settings = {**commune.settings, "reminders": policy.model_dump(mode="json")}
        session.add(commune)
        session.commit()
    print(t.gettext(MSG_SAVED))
    return 0


def cmd_policy_set(args: CliArgs) -> int:
    """Change one setting of the policy (dotted keys for delivery limits)."""
    return _save_policy(
        args, lambda policy: set_policy_value(policy, args.key, _parse_value(args.value))
    )


def cmd_policy_load(args: CliArgs) -> int:
    """Replace settings from a YAML file (keys not in the file keep their value)."""
    import yaml

    t = args.t
    try:
        raw = yaml.safe_load(Path(args.file).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        print(t.gettext(MSG_UNREADABLE, reason=error))
        return 1
    if not isinstance(raw, dict):
        print(t.gettext(MSG_NOT_A_MAPPING))
        return 1
    raw = raw.get("reminders", raw)

    def change(policy: ReminderPolicy) -> ReminderPolicy:
        data = policy.model_dump(mode="json")
        for key, value in raw.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return ReminderPolicy.model_validate(data)

    return _save_policy(args, change)


# ------------------------------------------------------------------ broadcast


def cmd_broadcast_send(args: CliArgs) -> int:
    """Queue an announcement to a group."""
    from sqlmodel import Session

    from bot.reminders.broadcasts import create_broadcast, group_label, parse_group

    t = args.t
    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune, commune_id = require_commune(session, args)
        try:
            group = parse_group(session, commune_id, args.group)
            broadcast, queued = create_broadcast(
                session,
                commune_id=commune_id,
                group=group,
                text=args.text,
                sender_name=args.sender or t.gettext(MSG_DEFAULT_SENDER, commune=commune.name),
                now=services.clock(),
            )
        except UserError as error:
            print(error.render(t))
            return 1
        label = group_label(session, group, t.locale)
        session.commit()
        result = {"broadcast": broadcast.id, "group": group, "recipients": queued}
    if args.json:
        print_json(result)
    else:
        print(t.gettext(MSG_QUEUED, broadcast=broadcast.id, group=label, count=queued))
        print(t.gettext(MSG_SENT_WHEN_RUNNING))
    return 0


# ------------------------------------------------------------------ outbox


def _status_word(args: CliArgs, status: str) -> str:
    word = STATUS_WORDS.get(status)
    return args.t.gettext(word) if word else status


def cmd_outbox_status(args: CliArgs) -> int:
    """Count outbox rows by status and list those needing attention."""
    from bot.reminders.outbox_admin import needing_attention, outbox_counts

    services = open_services(args.settings)
    counts = outbox_counts(services.engine)
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "status": r.status,
            "kind": r.kind,
            "channel": r.channel,
            "due_at": r.due_at.astimezone(services.tz).isoformat(),
            "error": r.last_error,
        }
        for r in needing_attention(services.engine)
    ]
    if args.json:
        print_json({"counts": counts, "attention": rows})
        return 0
    print(args.t.gettext(MSG_OUTBOX))
    for status, count in sorted(counts.items()):
        print(f"  {_status_word(args, status)}: {count}")
    if rows:
        print("\n" + args.t.gettext(MSG_ATTENTION))
        for row in rows:
            print(
                f"  #{row['id']} {_status_word(args, row['status'])} · {row['kind']} · {row['error']}"
            )
    return 0


def cmd_outbox_retry(args: CliArgs) -> int:
    """Resend a row whose delivery is unknown, failed or missed."""
    from bot.reminders.outbox_admin import retry_row

    services = open_services(args.settings)
    if retry_row(services.engine, args.id, services.clock()):
        print(args.t.gettext(MSG_RETRYING, id=args.id))
        return 0
    print(args.t.gettext(MSG_NOT_RETRIED, id=args.id))
    return 1


def register(tree: CommandTree) -> None:
    """Add the reminders, broadcast and outbox command groups."""
    _ = tree.t.gettext
    commune_help = _("commune slug (default: the first)")
    reminders = tree.group("reminders", N_("reminders: preview, policy"))
    prev = reminders.command("preview", cmd_preview, N_("what would be sent, when and to whom"))
    prev.add_argument("--plan", help=_("only this plan's tasks (slug)"))
    prev.add_argument("--from", dest="date_from", help=_("start date YYYY-MM-DD (default: now)"))
    prev.add_argument("--days", type=int, default=14, help=_("number of days (default 14)"))
    prev.add_argument("--commune", help=commune_help)
    prev.add_argument("--json", action="store_true", help=_("print JSON"))
    policy = reminders.group("policy", N_("show or change the reminder policy"))
    show = policy.command("show", cmd_policy_show, N_("show the policy"))
    show.add_argument("--json", action="store_true", help=_("print JSON"))
    setter = policy.command("set", cmd_policy_set, N_("change one setting: KEY VALUE"))
    setter.add_argument("key", help=_("the setting, e.g. lead_offsets or delivery.max_attempts"))
    setter.add_argument("value", help=_("its new value (JSON, e.g. [7, 3, 1])"))
    load = policy.command("load", cmd_policy_load, N_("load settings from a YAML file"))
    load.add_argument("file", help=_("the YAML file"))
    for command in (show, setter, load):
        command.add_argument("--commune", help=commune_help)

    broadcast = tree.group("broadcast", N_("broadcast: send an announcement"))
    send = broadcast.command("send", cmd_broadcast_send, N_("announce to a group"))
    send.add_argument(
        "--group",
        required=True,
        help=_("team | residents | village:NAME | nhom:NAME (its group chats) | unit:NAME"),
    )
    send.add_argument("--text", required=True, help=_("the announcement"))
    send.add_argument("--from", dest="sender", help=_("sender shown to recipients"))
    send.add_argument("--commune", help=commune_help)
    send.add_argument("--json", action="store_true", help=_("print JSON"))

    outbox = tree.group("outbox", N_("outbox: delivery status"))
    status = outbox.command("status", cmd_outbox_status, N_("messages by delivery status"))
    status.add_argument("--json", action="store_true", help=_("print JSON"))
    retry = outbox.command("retry", cmd_outbox_retry, N_("resend one message by id"))
    retry.add_argument("id", type=int, help=_("the message number"))
