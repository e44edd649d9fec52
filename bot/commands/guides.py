"""``tocns guides``: search, check, QR codes for posters, unanswered questions."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli import EXTRA_COMMANDS, batch_lines, print_json


def _index() -> Any:
    from bot.content.guides import load_guides
    from bot.content.search import GuideIndex

    return GuideIndex.build(load_guides())


def cmd_search(args: argparse.Namespace) -> int:
    """Search the guides for a question (or a batch of questions)."""
    index = _index()
    if args.batch:
        for query in batch_lines(args.batch, "q"):
            print_json(index.search(query, top=args.top).as_dict())
        return 0
    result = index.search(args.query or "", top=args.top)
    if args.json:
        print_json(result.as_dict())
        return 0
    from bot.content.guides import load_guides

    titles = {g.slug: g.title for g in load_guides()}
    for slug, score in result.results:
        print(f"{score:.2f}  {slug}  {titles.get(slug, '')}")
    print("chắc chắn" if result.confident else "chưa chắc chắn")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every guide file."""
    from bot.content.check import check_guides
    from bot.content.guides import GuideError, load_guides

    try:
        guides = load_guides()
    except GuideError as error:
        print(f"Lỗi: {error}", file=sys.stderr)
        return 1
    problems = check_guides(guides)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} vấn đề trong {len(guides)} hướng dẫn.", file=sys.stderr)
        return 1
    print(f"{len(guides)} hướng dẫn, không có lỗi.")
    return 0


def cmd_qr(args: argparse.Namespace) -> int:
    """Write a printable QR code of a guide's Telegram deep link, titled."""
    from bot.content.guides import load_guides
    from bot.content.qr import guide_qr_png
    from bot.settings import Settings

    guides = {g.slug: g for g in load_guides()}
    guide = guides.get(args.slug)
    if guide is None:
        print(f"Không có hướng dẫn '{args.slug}'.", file=sys.stderr)
        return 1
    link = f"https://t.me/{Settings().telegram_bot_username}?start=g_{guide.slug}"
    with open(args.output, "wb") as fh:
        fh.write(guide_qr_png(link, guide.title))
    print(f"Đã ghi {args.output} ({link})")
    return 0


def cmd_unanswered(args: argparse.Namespace) -> int:
    """List unanswered questions and 👎 feedback, most frequent first."""
    from sqlmodel import Session

    from bot.app import build_services, prepare_database
    from bot.content.questions import feedback_summary, unanswered
    from bot.settings import Settings

    services = build_services(Settings())
    prepare_database(services, sample=False)
    with Session(services.engine) as session:
        questions = unanswered(session, limit=args.limit)
        feedback = feedback_summary(session)
    if args.json:
        print(
            json.dumps(
                {
                    "unanswered": [
                        {"text": q.text, "count": q.count, "last": q.last_at.isoformat()}
                        for q in questions
                    ],
                    "feedback": [
                        {"slug": s, "helpful": h, "not_helpful": n} for s, h, n in feedback
                    ],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print("Câu hỏi chưa có hướng dẫn (số lần hỏi):")
    for q in questions:
        print(f"  {q.count:>4}  {q.text}")
    print("Đánh giá hướng dẫn (👍 / 👎):")
    for slug, helpful, not_helpful in feedback:
        print(f"  {helpful:>4} / {not_helpful:<4} {slug}")
    return 0


def register(sub: Any, add: Any) -> None:
    """Add the ``guides`` command group."""
    group = sub.add_parser("guides", help="how-to guides: search, check, qr, unanswered")
    actions = group.add_subparsers(dest="guides_command", metavar="ACTION")
    search = add(actions, "search", cmd_search, "search the guides for a question")
    search.add_argument("query", nargs="?", help="the question")
    search.add_argument("--top", type=int, default=3)
    search.add_argument("--json", action="store_true")
    search.add_argument("--batch", metavar="FILE", help='JSON lines with a "q" field')
    add(actions, "check", cmd_check, "validate every guide file")
    qr = add(actions, "qr", cmd_qr, "write a printable QR code for a guide's deep link")
    qr.add_argument("slug")
    qr.add_argument("-o", "--output", required=True, metavar="FILE.png")
    unanswered_cmd = add(
        actions, "unanswered", cmd_unanswered, "list unanswered questions and guide feedback"
    )
    unanswered_cmd.add_argument("--json", action="store_true")
    unanswered_cmd.add_argument("--limit", type=int, default=100)


EXTRA_COMMANDS.append(register)
