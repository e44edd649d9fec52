"""How-to guides: menu by category, free-text questions, deep links, feedback."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bot.content.guides import CATEGORIES, Guide
from bot.content.questions import record_feedback, record_unanswered
from bot.content.search import is_greeting
from bot.core.context import Context
from bot.core.flows import Action
from bot.core.messages import TEXT_LIMITS, Choice, Reply
from bot.core.registry import Registry
from bot.handlers.start import menu_choices
from bot.i18n import N_

NEXT_PAGE = N_("Next ›")
FEEDBACK_QUESTION = N_("Did this guide help you?")
YES = N_("👍 Yes")
NO = N_("👎 Not yet")


MESSAGE_LINES = 12  # no message longer than this on a small phone
BUTTON_CHANNELS = frozenset({"telegram"})  # where choices are buttons, not lines
TAIL_ROOM = 400  # room kept on the last page for "see also" and the feedback question


@dataclass(frozen=True)
class CategoryChoice(Action, prefix="gcat"):
    """List the guides of one category."""

    category: str


@dataclass(frozen=True)
class GuideChoice(Action, prefix="guide"):
    """Open a guide chosen from a list."""

    slug: str


@dataclass(frozen=True)
class GuideLink(Action, prefix="deeplink-g"):
    """A guide opened from a poster's QR code or link (/start g_<slug>)."""

    slug: str


@dataclass(frozen=True)
class PageChoice(Action, prefix="gpage"):
    """Another page of a long guide."""

    slug: str
    page: int = 1


@dataclass(frozen=True)
class FeedbackChoice(Action, prefix="gfb"):
    """👍 or 👎 on a guide."""

    slug: str
    helpful: bool


@dataclass(frozen=True)
class NoneFitChoice(Action, prefix="gnone"):
    """None of the suggested guides fits the question."""


def _pages(ctx: Context, guide: Guide) -> list[str]:
    return _cached_pages(guide, TEXT_LIMITS.get(ctx.message.channel, 2000) - TAIL_ROOM)


@functools.lru_cache(maxsize=512)
def _cached_pages(guide: Guide, limit: int) -> list[str]:
    # Guides are immutable files loaded once: render each page size once.
    return guide.pages(limit)


def show_guide(ctx: Context, slug: str, page: int = 1) -> list[Reply]:
    """One page of a guide; the last page ends with related guides and the feedback question."""
    guide = ctx.services.guides.get(slug)
    if guide is None:
        return [ctx.reply(N_("This guide no longer exists. Type /huongdan to see all guides."))]
    pages = _pages(ctx, guide)
    page = min(max(page, 1), len(pages))
    parts = [pages[page - 1]]
    if len(pages) > 1:
        parts[0] += f"\n({page}/{len(pages)})"
    if page < len(pages):
        return [
            Reply(
                text=parts[0], choices=[Choice(ctx._(NEXT_PAGE), PageChoice(slug, page + 1).pack())]
            )
        ]
    related = [ctx.services.guides[s] for s in guide.related if s in ctx.services.guides]
    if related:
        lines = [ctx._("See also (type the name to open):")]
        lines += [f"• {item.title}" for item in related]
        parts.append("\n".join(lines))
    parts.append(ctx._(FEEDBACK_QUESTION))
    choices = [
        Choice(ctx._(YES), FeedbackChoice(slug, helpful=True).pack()),
        Choice(ctx._(NO), FeedbackChoice(slug, helpful=False).pack()),
    ]
    text = "\n\n".join(parts)
    if len(text) + TAIL_ROOM // 4 > TEXT_LIMITS.get(ctx.message.channel, 2000):
        # An unusually long "see also": keep the guide whole and ask in a second message.
        return [Reply(text="\n\n".join(parts[:-1])), Reply(text=parts[-1], choices=choices)]
    if _shown_lines(ctx, text, choices) > MESSAGE_LINES:
        # The last page, "see also" and the question would not fit one small screen: the
        # page stays whole, "see also" and the question follow in a second message.
        return [Reply(text=parts[0]), Reply(text="\n\n".join(parts[1:]), choices=choices)]
    return [Reply(text=text, choices=choices)]


def _shown_lines(ctx: Context, text: str, choices: list[Choice]) -> int:
    """The lines a message takes: its text, and where there are no buttons (Zalo, the
    console) one line per choice and the line that says how to pick one."""
    lines = sum(1 for line in text.splitlines() if line.strip())
    if choices and ctx.message.channel not in BUTTON_CHANNELS:
        lines += len(choices) + 1
    return lines


def no_guide(ctx: Context) -> list[Reply]:
    """The kind fallback when nothing fits, with the menu and how to reach the team."""
    text = ctx._(
        "Sorry, there is no guide for this yet. I have noted your question so the team can write one.\n"
        "You can ask the community digital technology team of your village directly, "
        "or pick a topic below."
    )
    return [Reply(text=text, choices=category_choices(ctx))]


def category_choices(ctx: Context) -> list[Choice]:
    return [Choice(title, CategoryChoice(slug).pack()) for slug, title in CATEGORIES.items()]


def answer_question(ctx: Context, text: str) -> list[Reply]:
    """Answer free text: a greeting, an exact title or slug, a guide, choices, or the fallback."""
    if is_greeting(text):
        name = ctx.call_name
        greeting = ctx._(
            'Hello {name}! What would you like to ask? For example: "how to activate VNeID level 2".',
            name=name,
        )
        return [Reply(text=greeting.replace(" !", "!"), choices=menu_choices(ctx))]
    index = ctx.services.guide_index
    exact = index.lookup(text)
    if exact is not None:
        return show_guide(ctx, exact)
    result = index.search(text, top=3)
    ctx.state.data = {"q": text[:300]}
    if result.confident and result.best is not None:
        return show_guide(ctx, result.best)
    suggestions = result.suggestions()
    if suggestions:
        choices = [
            Choice(ctx.services.guides[slug].title, GuideChoice(slug).pack())
            for slug in suggestions
        ]
        choices.append(Choice(ctx._("None of these"), NoneFitChoice().pack()))
        return [Reply(text=ctx._("Did you mean…?"), choices=choices)]
    record_unanswered(ctx.session, text, ctx.now, ctx.services.settings.unanswered_retention_days)
    return no_guide(ctx)


def register(registry: Registry) -> None:
    """Register the guide commands, buttons and the free-text question handler."""

    @registry.command("huongdan", "guides", description=N_("How-to guides by topic"))
    def guides_menu(ctx: Context, argument: str) -> list[Reply]:
        """Show the guide categories (or search directly if a question follows)."""
        ctx.finish()
        if argument:
            return answer_question(ctx, argument)
        return [ctx.reply(N_("Pick a topic:"), category_choices(ctx))]

    @registry.on_choice(CategoryChoice)
    def category(ctx: Context, data: CategoryChoice) -> list[Reply]:
        """List the guides of one category."""
        guides = [g for g in ctx.services.guides.values() if g.category == data.category]
        if not guides:
            return [ctx.reply(N_("Pick a topic:"), category_choices(ctx))]
        choices = [Choice(g.title, GuideChoice(g.slug).pack()) for g in guides]
        return [Reply(text=CATEGORIES.get(data.category, data.category), choices=choices)]

    @registry.on_choice(GuideChoice)
    def open_guide(ctx: Context, data: GuideChoice) -> list[Reply]:
        """Open a guide chosen from a list."""
        return show_guide(ctx, data.slug)

    @registry.on_choice(GuideLink)
    def deep_link(ctx: Context, data: GuideLink) -> list[Reply]:
        """Open a guide from a poster's QR code or link (/start g_<slug>)."""
        return show_guide(ctx, data.slug.lower())

    @registry.on_choice(PageChoice)
    def next_page(ctx: Context, data: PageChoice) -> list[Reply]:
        """Show another page of a long guide."""
        return show_guide(ctx, data.slug, data.page)

    @registry.on_choice(FeedbackChoice)
    def feedback(ctx: Context, data: FeedbackChoice) -> list[Reply]:
        """Record 👍/👎 on a guide."""
        slug, helpful = data.slug, data.helpful
        if slug not in ctx.services.guides:
            return [ctx.reply(N_("Thank you!"))]
        query = str(ctx.state.data.get("q", "")) if ctx.state.flow is None else ""
        record_feedback(ctx.session, slug, helpful, query, ctx.now)
        if helpful:
            return [ctx.reply(N_("Thank you! Glad it helped."))]
        return [
            ctx.reply(
                N_(
                    "Thank you, I have noted it so the team can improve this guide. "
                    "For help now, ask the community digital technology team of your village."
                ),
                menu_choices(ctx),
            )
        ]

    @registry.on_choice(NoneFitChoice)
    def none_fit(ctx: Context, data: NoneFitChoice) -> list[Reply]:
        """The person said none of the suggested guides fits."""
        query = str(ctx.state.data.get("q", ""))
        if query:
            record_unanswered(
                ctx.session, query, ctx.now, ctx.services.settings.unanswered_retention_days
            )
        return no_guide(ctx)

    @registry.text
    def question(ctx: Context, text: str) -> list[Reply]:
        """Treat free text as a question to the guides (always answers)."""
        if not text.strip():
            return [
                Reply(
                    text=ctx._("Type your question, or pick from the menu."),
                    choices=menu_choices(ctx),
                )
            ]
        return answer_question(ctx, text)
