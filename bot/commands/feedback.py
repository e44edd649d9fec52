"""``tocns feedback``: report categories (routing, deadlines, urgency) and Open311 API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.commands.base import (
    CliArgs,
    CommandTree,
    open_services,
    print_json,
    require_commune,
)
from bot.core.errors import UserError
from bot.i18n import N_, Translator

if TYPE_CHECKING:
    from sqlmodel import Session

    from db.models import FeedbackCategory

MSG_KEY = N_(
    "New Open311 API key for {commune} (shown only now; give it to the client and keep it "
    "secret):\n{key}"
)
MSG_REVOKED = N_("{count} Open311 API key(s) of {commune} withdrawn.")


def cmd_key_new(args: CliArgs) -> int:
    """Issue an Open311 API key (its hash is stored, the key is printed once)."""
    from sqlmodel import Session

    from bot.feedback.apikeys import issue_api_key
    from bot.feedback.queues import jurisdiction_id

    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune, _ = require_commune(session, args)
        key = issue_api_key(session, commune)
        name, jurisdiction = commune.name, jurisdiction_id(commune)
        session.commit()
    if args.json:
        print_json({"api_key": key, "jurisdiction_id": jurisdiction})
    else:
        print(args.t.gettext(MSG_KEY, commune=name, key=key))
    return 0


def cmd_key_revoke(args: CliArgs) -> int:
    """Withdraw every Open311 API key of the commune."""
    from sqlmodel import Session

    from bot.feedback.apikeys import revoke_api_keys

    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune, _ = require_commune(session, args)
        count = revoke_api_keys(session, commune)
        name = commune.name
        session.commit()
    if args.json:
        print_json({"revoked": count})
    else:
        print(args.t.gettext(MSG_REVOKED, count=count, commune=name))
    return 0


# ------------------------------------------------------------------ categories

MSG_CATEGORIES = N_("Report categories of {commune} (deadlines in working days):")
MSG_CATEGORY_LINE = N_(
    "{code}: {name} — {unit}; first answer {answer} days, settled {close} days{flags}"
)
MSG_OFFICE_ROUTES = N_("the standing office chooses the unit")
MSG_FLAG_URGENT = N_("urgent (told at once, even in quiet hours)")
MSG_FLAG_INACTIVE = N_("not in use")
MSG_CATEGORY_SAVED = N_("Saved: {line}")
MSG_CATEGORY_ADDED = N_("Added: {line}")
MSG_NOTHING_TO_CHANGE = N_("Nothing to change: give at least one option (see --help).")
MSG_NOT_SAVED = N_("Not saved: {reason}")
YES_NO = {"yes": True, "co": True, "có": True, "no": False, "khong": False, "không": False}


def _category_json(category: FeedbackCategory, unit: str | None) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "group": category.group,
        "lead_unit": unit,
        "answer_days": category.answer_days,
        "close_days": category.close_days,
        "urgent": category.urgent,
        "active": category.active,
    }


def _category_line(t: Translator, item: dict[str, Any]) -> str:
    flags = []
    if item["urgent"]:
        flags.append(t.gettext(MSG_FLAG_URGENT))
    if not item["active"]:
        flags.append(t.gettext(MSG_FLAG_INACTIVE))
    return t.gettext(
        MSG_CATEGORY_LINE,
        code=item["code"],
        name=item["name"],
        unit=item["lead_unit"] or t.gettext(MSG_OFFICE_ROUTES),
        answer=item["answer_days"],
        close=item["close_days"],
        flags="".join(f"; {flag}" for flag in flags),
    )


def _unit_name(session: Session, category: FeedbackCategory) -> str | None:
    from db.models import Unit

    unit = session.get(Unit, category.lead_unit_id) if category.lead_unit_id else None
    return unit.name if unit is not None else None


def cmd_category_list(args: CliArgs) -> int:
    """List the commune's report categories with their unit, deadlines and urgency."""
    from sqlmodel import Session

    from bot.feedback.store import ensure_categories

    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune, commune_id = require_commune(session, args)
        items = [
            _category_json(c, _unit_name(session, c))
            for c in ensure_categories(session, commune_id)
        ]
        name = commune.name
        session.commit()  # the default list, made on first use
    if args.json:
        print_json(items)
        return 0
    print(args.t.gettext(MSG_CATEGORIES, commune=name))
    for item in items:
        print("  " + _category_line(args.t, item))
    return 0


def _yes_no(raw: str | None) -> bool | None:
    if raw is None:
        return None
    return YES_NO[raw.strip().lower()]


def _change_category(args: CliArgs, adding: bool) -> int:
    from sqlmodel import Session

    from bot.feedback import store

    t = args.t
    services = open_services(args.settings)
    with Session(services.engine) as session:
        _, commune_id = require_commune(session, args)
        try:
            if adding:
                category = store.add_category(
                    session,
                    commune_id,
                    args.code,
                    args.name,
                    now=services.clock(),
                    lead_unit=args.unit,
                    urgent=bool(_yes_no(args.urgent)),
                    answer_days=2 if args.answer_days is None else args.answer_days,
                    close_days=10 if args.close_days is None else args.close_days,
                    group=args.group or "",
                    keywords=args.keywords or "",
                )
            else:
                changes: dict[str, Any] = {
                    "name": args.name,
                    "urgent": _yes_no(args.urgent),
                    "answer_days": args.answer_days,
                    "close_days": args.close_days,
                    "active": _yes_no(args.active),
                }
                changes = {k: v for k, v in changes.items() if v is not None}
                if args.no_unit:
                    changes["lead_unit"] = None
                elif args.unit is not None:
                    changes["lead_unit"] = args.unit
                if not changes:
                    print(t.gettext(MSG_NOTHING_TO_CHANGE))
                    return 1
                category = store.update_category(
                    session, commune_id, args.code, now=services.clock(), **changes
                )
        except UserError as error:
            session.rollback()
            print(t.gettext(MSG_NOT_SAVED, reason=error.render(t)))
            return 1
        item = _category_json(category, _unit_name(session, category))
        session.commit()
    if args.json:
        print_json(item)
    else:
        done = MSG_CATEGORY_ADDED if adding else MSG_CATEGORY_SAVED
        print(t.gettext(done, line=_category_line(t, item)))
    return 0


def cmd_category_set(args: CliArgs) -> int:
    """Change a category: its lead unit, deadlines, urgency, name, whether it is in use."""
    return _change_category(args, adding=False)


def cmd_category_add(args: CliArgs) -> int:
    """Add a category to the commune's list."""
    return _change_category(args, adding=True)


def register(tree: CommandTree) -> None:
    """Add the feedback command group."""
    _ = tree.t.gettext
    feedback = tree.group(
        "feedback", N_("residents' feedback: report categories and Open311 API keys")
    )
    category = feedback.group(
        "category", N_("report categories: lead unit, deadlines, urgency (per commune)")
    )
    listing = category.command("list", cmd_category_list, N_("list the report categories"))
    change = category.command("set", cmd_category_set, N_("change a report category"))
    add = category.command("add", cmd_category_add, N_("add a report category"))
    change.add_argument("code", help=_("the category's code (see: tocns feedback category list)"))
    add.add_argument("code", help=_("a new code: lowercase letters without accents, digits, _"))
    add.add_argument("name", help=_("the name residents see"))
    change.add_argument("--name", help=_("the name residents see"))
    change.add_argument(
        "--active", choices=sorted(YES_NO), help=_("whether residents can choose it")
    )
    change.add_argument(
        "--no-unit", action="store_true", help=_("no lead unit: the standing office routes")
    )
    add.add_argument("--group", help=_("the group it is listed under"))
    add.add_argument("--keywords", help=_("words that recognise it in free text, comma separated"))
    for command in (change, add):
        command.add_argument("--unit", help=_("the lead unit (its name or a recorded spelling)"))
        command.add_argument(
            "--answer-days", type=int, help=_("working days to the first answer (0: the same day)")
        )
        command.add_argument("--close-days", type=int, help=_("working days to settle it"))
        command.add_argument(
            "--urgent",
            choices=sorted(YES_NO),
            help=_("urgent: its officers are told at once, even in quiet hours"),
        )
    for command in (listing, change, add):
        command.add_argument("--commune", help=_("commune slug (default: the first)"))
        command.add_argument("--json", action="store_true", help=_("print JSON"))
    key = feedback.group("key", N_("Open311 API keys for clients that submit reports"))
    new = key.command("new", cmd_key_new, N_("issue a new API key (printed once)"))
    revoke = key.command("revoke", cmd_key_revoke, N_("withdraw every API key"))
    for command in (new, revoke):
        command.add_argument("--commune", help=_("commune slug (default: the first)"))
        command.add_argument("--json", action="store_true", help=_("print JSON"))
