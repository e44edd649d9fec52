"""``tocns guides``: search, check, QR codes for posters, unanswered questions."""

from __future__ import annotations

import sys

from bot.commands.base import CliArgs, CommandTree, batch_lines, open_services, print_json
from bot.content.check import check_guides
from bot.content.guides import GuideError, load_guides
from bot.content.search import GuideIndex
from bot.i18n import N_

MSG_CONFIDENT = N_("confident")
MSG_NOT_CONFIDENT = N_("not confident")
MSG_ERROR = N_("Error: {error}")
MSG_PROBLEMS = N_("{problems} problems in {guides} guides.")
MSG_ALL_GOOD = N_("{guides} guides, no errors.")
MSG_NO_GUIDE = N_("There is no guide '{slug}'.")
MSG_WROTE_QR = N_("Wrote {file} ({link})")
MSG_UNANSWERED = N_("Questions without a guide (times asked):")
MSG_FEEDBACK = N_("Guide ratings (👍 / 👎):")


def cmd_search(args: CliArgs) -> int:
    """Search the guides for a question (or a batch of questions)."""
    guides = load_guides()
    index = GuideIndex.build(guides)
    if args.batch:
        for query in batch_lines(args.batch, "q"):
            print_json(index.search(query, top=args.top).as_dict())
        return 0
    result = index.search(args.query or "", top=args.top)
    if args.json:
        print_json(result.as_dict())
        return 0
    titles = {g.slug: g.title for g in guides}
    for slug, score in result.results:
        print(f"{score:.2f}  {slug}  {titles.get(slug, '')}")
    print(args.t.gettext(MSG_CONFIDENT if result.confident else MSG_NOT_CONFIDENT))
    return 0


def cmd_check(args: CliArgs) -> int:
    """Validate every guide file."""
    t = args.t
    try:
        guides = load_guides()
    except GuideError as error:
        print(t.gettext(MSG_ERROR, error=error), file=sys.stderr)
        return 1
    problems = check_guides(guides)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(t.gettext(MSG_PROBLEMS, problems=len(problems), guides=len(guides)), file=sys.stderr)
        return 1
    print(t.gettext(MSG_ALL_GOOD, guides=len(guides)))
    return 0


def cmd_qr(args: CliArgs) -> int:
    """Write a printable QR code of a guide's Telegram deep link, titled."""
    # Imported here: the QR code and the picture need qrcode and Pillow.
    from bot.content.qr import guide_qr_png

    guides = {g.slug: g for g in load_guides()}
    guide = guides.get(args.slug)
    if guide is None:
        print(args.t.gettext(MSG_NO_GUIDE, slug=args.slug), file=sys.stderr)
        return 1
    link = f"https://t.me/{args.settings.telegram_bot_username}?start=g_{guide.slug}"
    with open(args.output, "wb") as fh:
        fh.write(guide_qr_png(link, guide.title))
    print(args.t.gettext(MSG_WROTE_QR, file=args.output, link=link))
    return 0


def cmd_unanswered(args: CliArgs) -> int:
    """List unanswered questions and 👎 feedback, most frequent first."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.content.questions import feedback_summary, unanswered

    services = open_services(args.settings, sample=False)
    with Session(services.engine) as session:
        questions = unanswered(session, limit=args.limit)
        feedback = feedback_summary(session)
    if args.json:
        print_json(
            {
                "unanswered": [
                    {"text": q.text, "count": q.count, "last": q.last_at.isoformat()}
                    for q in questions
                ],
                "feedback": [{"slug": s, "helpful": h, "not_helpful": n} for s, h, n in feedback],
            }
        )
        return 0
    print(args.t.gettext(MSG_UNANSWERED))
    for q in questions:
        print(f"  {q.count:>4}  {q.text}")
    print(args.t.gettext(MSG_FEEDBACK))
    for slug, helpful, not_helpful in feedback:
        print(f"  {helpful:>4} / {not_helpful:<4} {slug}")
    return 0


def register(tree: CommandTree) -> None:
    """Add the ``guides`` command group."""
    _ = tree.t.gettext
    guides = tree.group("guides", N_("how-to guides: search, check, qr, unanswered"))
    search = guides.command("search", cmd_search, N_("search the guides for a question"))
    search.add_argument("query", nargs="?", help=_("the question"))
    search.add_argument("--top", type=int, default=3, help=_("how many guides to show"))
    search.add_argument("--json", action="store_true", help=_("print JSON"))
    search.add_argument("--batch", metavar="FILE", help=_('JSON lines with a "q" field'))
    guides.command("check", cmd_check, N_("validate every guide file"))
    qr = guides.command("qr", cmd_qr, N_("write a printable QR code for a guide's deep link"))
    qr.add_argument("slug", help=_("the guide (its slug)"))
    qr.add_argument(
        "-o", "--output", required=True, metavar="FILE.png", help=_("where to write it")
    )
    unanswered_cmd = guides.command(
        "unanswered", cmd_unanswered, N_("list unanswered questions and guide feedback")
    )
    unanswered_cmd.add_argument("--json", action="store_true", help=_("print JSON"))
    unanswered_cmd.add_argument(
        "--limit", type=int, default=100, help=_("at most this many questions")
    )
