"""``tocns reminders`` / ``tocns broadcast`` / ``tocns outbox``: preview, policy, announcements, delivery."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from bot.cli import EXTRA_COMMANDS, print_json

KIND_WORDS = {
    "deadline": "Nhắc hạn",
    "overdue": "Quá hạn",
    "coordinating": "Phối hợp",
    "period": "Báo cáo kỳ",
    "red": "Cảnh báo đỏ",
    "digest": "Tóm tắt tuần",
    "tally": "Nhắc số liệu (tổ)",
    "tally_leader": "Nhắc số liệu (tổ trưởng)",
    "tally_office": "Xóm chưa báo cáo",
    "broadcast": "Thông báo",
}
STATUS_WORDS = {
    "pending": "chờ gửi",
    "claimed": "đang nhận",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "lỗi",
    "missed": "bỏ lỡ",
    "blocked": "bị chặn",
    "cancelled": "đã hủy",
    "unknown": "không rõ đã tới chưa",
}
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def _services() -> Any:
    from bot.app import build_services, prepare_database
    from bot.settings import Settings

    services = build_services(Settings())
    prepare_database(services)
    return services


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ------------------------------------------------------------------ reminders preview


def cmd_preview(args: argparse.Namespace) -> int:
    """Print what would be sent, when and to whom."""
    from sqlmodel import Session

    from bot.core.people import find_commune
    from bot.reminders.planner import preview

    services = _services()
    tz = services.tz
    if args.date_from:
        try:
            day = dt.date.fromisoformat(args.date_from)
        except ValueError:
            print(f"Ngày không hợp lệ: {args.date_from} (viết theo dạng 2026-03-10)")
            return 1
        start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz).astimezone(dt.UTC)
    else:
        start = services.clock()
    end = start + dt.timedelta(days=args.days)
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None:
            print("Chưa có xã nào trong cơ sở dữ liệu.")
            return 1
        items = preview(session, commune, start, end, tz, plan=args.plan)
    if args.json:
        print_json(items)
        return 0
    local = start.astimezone(tz)
    print(
        f"Lời nhắc dự kiến từ {local:%H:%M %d/%m/%Y} trong {args.days} ngày"
        + (f" (kế hoạch {args.plan})" if args.plan else "")
        + f": {len(items)} tin"
    )
    if not items:
        return 0
    print(f"{'Thời gian':<22} {'Người nhận':<42} {'Nhiệm vụ':<9} Loại")
    for item in items:
        at = dt.datetime.fromisoformat(item["at"])
        when = f"{WEEKDAYS[at.weekday()]} {at:%d/%m %H:%M}"
        who = item["recipient"] + (
            "" if item["staffed"] or item["task"] is None else " (chưa có cán bộ)"
        )
        kind = KIND_WORDS.get(item["kind"], item["kind"])
        if item.get("due"):
            due = dt.date.fromisoformat(item["due"])
            kind += f", hạn {due:%d/%m/%Y}"
        print(f"{when:<22} {who[:42]:<42} {item['task'] or '—':<9} {kind}")
    unstaffed = sorted(
        {i["recipient"] for i in items if not i["staffed"] and i["task"] is not None}
    )
    if unstaffed:
        print(
            "\nĐơn vị chưa có cán bộ nhận tin (cấp mã mời vai trò đơn vị để họ nhận nhắc việc): "
            + ", ".join(unstaffed)
        )
    return 0


# ------------------------------------------------------------------ policy


def cmd_policy_show(args: argparse.Namespace) -> int:
    """Show the commune's reminder policy."""
    from sqlmodel import Session

    from bot.core.people import find_commune
    from bot.reminders.policy import load_policy

    services = _services()
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None:
            print("Chưa có xã nào trong cơ sở dữ liệu.")
            return 1
        policy = load_policy(commune.settings)
    data = policy.model_dump(mode="json")
    if args.json:
        print_json(data)
    else:
        print(f"Chính sách nhắc việc của {commune.name}:")
        for key, value in data.items():
            print(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    return 0


def _save_policy(args: argparse.Namespace, change: Any) -> int:
    from pydantic import ValidationError
    from sqlmodel import Session

    from bot.core.people import find_commune
    from bot.reminders.policy import load_policy

    services = _services()
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None:
            print("Chưa có xã nào trong cơ sở dữ liệu.")
            return 1
        try:
            policy = change(load_policy(commune.settings))
        except (ValidationError, ValueError) as error:
            print(f"Không lưu được: {error}")
            return 1
        commune.settings = {**commune.settings, "reminders": policy.model_dump(mode="json")}
        session.add(commune)
        session.commit()
    print("Đã lưu. Các lời nhắc sắp tới được tính lại trong vòng một phút.")
    return 0


def cmd_policy_set(args: argparse.Namespace) -> int:
    """Change one setting of the policy (dotted keys for delivery limits)."""
    from bot.reminders.policy import set_policy_value

    return _save_policy(
        args, lambda policy: set_policy_value(policy, args.key, _parse_value(args.value))
    )


def cmd_policy_load(args: argparse.Namespace) -> int:
    """Replace settings from a YAML file (keys not in the file keep their value)."""
    import yaml

    from bot.reminders.policy import ReminderPolicy

    try:
        raw = yaml.safe_load(Path(args.file).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        print(f"Không đọc được tệp: {error}")
        return 1
    if not isinstance(raw, dict):
        print("Tệp phải là một bảng khóa: giá trị.")
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


def cmd_broadcast_send(args: argparse.Namespace) -> int:
    """Queue an announcement to a group."""
    from sqlmodel import Session

    from bot.core.errors import UserError
    from bot.core.people import find_commune
    from bot.i18n import translator
    from bot.reminders.broadcasts import create_broadcast, group_label, parse_group

    services = _services()
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None or commune.id is None:
            print("Chưa có xã nào trong cơ sở dữ liệu.")
            return 1
        try:
            group = parse_group(session, commune.id, args.group)
            broadcast, queued = create_broadcast(
                session,
                commune_id=commune.id,
                group=group,
                text=args.text,
                sender_name=args.sender or f"UBND {commune.name}",
                now=services.clock(),
            )
        except UserError as error:
            print(translator("vi").gettext(error.message_id, **error.params))
            return 1
        label = group_label(session, group)
        session.commit()
        result = {"broadcast": broadcast.id, "group": group, "recipients": queued}
    if args.json:
        print_json(result)
    else:
        print(f"Đã xếp hàng thông báo số {result['broadcast']} tới {label}: {queued} người nhận.")
        print("Tin được gửi khi tocns run đang chạy (trong vòng một phút).")
    return 0


# ------------------------------------------------------------------ outbox


def cmd_outbox_status(args: argparse.Namespace) -> int:
    """Count outbox rows by status and list those needing attention."""
    from bot.reminders.outbox_admin import needing_attention, outbox_counts

    services = _services()
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
    print("Hàng đợi tin nhắn:")
    for status, count in sorted(counts.items()):
        print(f"  {STATUS_WORDS.get(status, status)}: {count}")
    if rows:
        print("\nCần xem lại (gửi lại bằng: tocns outbox retry ID):")
        for row in rows:
            print(
                f"  #{row['id']} {STATUS_WORDS.get(row['status'], row['status'])} · {row['kind']} · {row['error']}"
            )
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    """Resend a row whose delivery is unknown, failed or missed."""
    from bot.reminders.outbox_admin import retry_row

    services = _services()
    if retry_row(services.engine, args.id, services.clock()):
        print(f"Tin #{args.id} sẽ được gửi lại.")
        return 0
    print(f"Không gửi lại được tin #{args.id} (không có, hoặc đã gửi).")
    return 1


def register(sub: Any, add: Any) -> None:
    """Add the reminders, broadcast and outbox command groups."""
    reminders = sub.add_parser("reminders", help="reminders: preview, policy")
    actions = reminders.add_subparsers(dest="reminders_command", metavar="ACTION")
    prev = add(actions, "preview", cmd_preview, "what would be sent, when and to whom")
    prev.add_argument("--plan", help="only this plan's tasks (slug)")
    prev.add_argument("--from", dest="date_from", help="start date YYYY-MM-DD (default: now)")
    prev.add_argument("--days", type=int, default=14, help="number of days (default 14)")
    prev.add_argument("--commune", help="commune slug (default: the first)")
    prev.add_argument("--json", action="store_true", help="JSON list")
    policy = actions.add_parser("policy", help="show or change the reminder policy")
    policy_actions = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    show = add(policy_actions, "show", cmd_policy_show, "show the policy")
    show.add_argument("--json", action="store_true")
    setter = add(policy_actions, "set", cmd_policy_set, "change one setting: KEY VALUE")
    setter.add_argument("key")
    setter.add_argument("value")
    load = add(policy_actions, "load", cmd_policy_load, "load settings from a YAML file")
    load.add_argument("file")
    for command in (show, setter, load):
        command.add_argument("--commune", help="commune slug (default: the first)")

    broadcast = sub.add_parser("broadcast", help="broadcast: send an announcement")
    b_actions = broadcast.add_subparsers(dest="broadcast_command", metavar="ACTION")
    send = add(b_actions, "send", cmd_broadcast_send, "announce to a group")
    send.add_argument("--group", required=True, help="team | residents | village:NAME | unit:NAME")
    send.add_argument("--text", required=True)
    send.add_argument("--from", dest="sender", help="sender shown to recipients")
    send.add_argument("--commune", help="commune slug (default: the first)")
    send.add_argument("--json", action="store_true")

    outbox = sub.add_parser("outbox", help="outbox: delivery status")
    o_actions = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    status = add(o_actions, "status", cmd_outbox_status, "messages by delivery status")
    status.add_argument("--json", action="store_true")
    retry = add(o_actions, "retry", cmd_outbox_retry, "resend one message by id")
    retry.add_argument("id", type=int)


EXTRA_COMMANDS.append(register)
