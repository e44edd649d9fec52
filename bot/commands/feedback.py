"""``tocns feedback``: Open311 API keys for the clients that may POST reports."""

from __future__ import annotations

from bot.commands.base import CliArgs, CommandTree, open_services, print_json
from bot.i18n import N_

MSG_NO_COMMUNE = N_("There is no commune “{slug}” in the database.")
MSG_KEY = N_(
    "New Open311 API key for {commune} (shown only now; give it to the client and keep it "
    "secret):\n{key}"
)
MSG_REVOKED = N_("{count} Open311 API key(s) of {commune} withdrawn.")


def cmd_key_new(args: CliArgs) -> int:
    """Issue an Open311 API key (its hash is stored, the key is printed once)."""
    from sqlmodel import Session

    from bot.core.people import find_commune
    from bot.feedback.apikeys import issue_api_key
    from bot.feedback.queues import jurisdiction_id

    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None:
            print(args.t.gettext(MSG_NO_COMMUNE, slug=args.commune or ""))
            return 1
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

    from bot.core.people import find_commune
    from bot.feedback.apikeys import revoke_api_keys

    services = open_services(args.settings)
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None:
            print(args.t.gettext(MSG_NO_COMMUNE, slug=args.commune or ""))
            return 1
        count = revoke_api_keys(session, commune)
        name = commune.name
        session.commit()
    if args.json:
        print_json({"revoked": count})
    else:
        print(args.t.gettext(MSG_REVOKED, count=count, commune=name))
    return 0


def register(tree: CommandTree) -> None:
    """Add the feedback command group."""
    _ = tree.t.gettext
    feedback = tree.group("feedback", N_("residents' feedback: Open311 API keys"))
    key = feedback.group("key", N_("Open311 API keys for clients that submit reports"))
    new = key.command("new", cmd_key_new, N_("issue a new API key (printed once)"))
    revoke = key.command("revoke", cmd_key_revoke, N_("withdraw every API key"))
    for command in (new, revoke):
        command.add_argument("--commune", help=_("commune slug (default: the first)"))
        command.add_argument("--json", action="store_true", help=_("print JSON"))
