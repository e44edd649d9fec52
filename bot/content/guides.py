"""How-to guides for residents: Markdown files with YAML front matter.

Each file in ``bot/content/guides/`` is one guide; adding a guide is adding a file
(``bot/content/guides/README.md`` describes the format for the content team). Guides
are written in Vietnamese only (they are content, not interface strings), so the
rendered text, including the "Nguồn: …" line, is Vietnamese.

A guide is shown on a small phone one page at a time: the first page holds the title,
a one-line answer and a short summary; the steps follow on their own pages (at most
``PAGE_LINES`` wrapped lines of ``PHONE_WIDTH`` characters each), then where to go, the
cost, what to do if it fails and the notes, and the sources last. The body's sections
have fixed Vietnamese headings (``SECTION_TITLES``); a line ``---`` inside the steps is
an explicit page break.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GUIDES_DIR = Path(__file__).parent / "guides"
OFFICES_FILE = GUIDES_DIR / "offices.yaml"

# Category slug → Vietnamese title, in menu order.
CATEGORIES: dict[str, str] = {
    "vneid": "VNeID – căn cước",
    "dich-vu-cong": "Dịch vụ công – chính quyền xã",
    "ho-tich-cu-tru": "Hộ tịch – cư trú",
    "dat-dai-kinh-doanh": "Đất đai – nhà ở – kinh doanh",
    "suc-khoe": "Bảo hiểm – lương hưu – trợ cấp",
    "chu-ky-so": "Chữ ký số",
    "ngan-hang": "Ngân hàng – thanh toán",
    "lua-dao": "Phòng chống lừa đảo",
    "ky-nang-so": "Kỹ năng số",
}

ZALO_LIMIT = 2000
TELEGRAM_LIMIT = 4096

# A small phone shows about 40 characters a line; a page keeps to 11 wrapped lines so
# that the page counter the chat adds ("(2/4)") still fits in about 12.
PHONE_WIDTH = 40
PAGE_LINES = 11

# Body section key → the heading written in the file (and shown, with a colon).
SECTION_TITLES: dict[str, str] = {
    "prepare": "Cần chuẩn bị",
    "steps": "Các bước",
    "where": "Làm ở đâu",
    "cost": "Chi phí",
    "if_it_fails": "Nếu không được",
    "notes": "Lưu ý",
}
_SECTION_BY_TITLE = {title.casefold(): key for key, title in SECTION_TITLES.items()}
STEPS_CONTINUED = "Các bước (tiếp):"
PAGE_BREAK = "---"

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_STEP = re.compile(r"^\s*(\d+)\.\s+")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")


class GuideError(ValueError):
    """A guide file cannot be read (missing front matter, bad YAML)."""


@dataclass(frozen=True)
class Source:
    """Where a guide's facts come from.

    ``ref`` is the page's address (or a site name), ``date`` the page's own date as
    precisely as it gives it, ``publisher`` who published it, ``supports`` which facts
    of the guide it backs (every number, date and legal reference the resident reads
    must appear here), and ``menu`` the app or portal labels and paths (``A → B``) the
    page shows, so a guide may tell the resident to choose them.
    """

    ref: str
    date: str | None = None  # "YYYY-MM-DD" or "YYYY-MM"
    publisher: str = ""
    supports: str = ""
    menu: tuple[str, ...] = ()

    def render(self) -> str:
        """Plain-text citation, e.g. ``Báo Dân trí (29/08/2025)``."""
        label = self.publisher or re.sub(r"^https?://", "", self.ref).rstrip("/")
        if len(label) > 60:
            label = label.split("/", 1)[0]
        return f"{label} ({format_partial_date(self.date)})" if self.date else label

    @property
    def day(self) -> dt.date | None:
        """The page's date as a day (the first of the month when only a month is given)."""
        return partial_date(self.date) if self.date else None


@dataclass(frozen=True)
class Sections:
    """The parts of a guide's body, as plain text lines (no Markdown markup)."""

    prepare: tuple[str, ...] = ()
    steps: tuple[tuple[str, ...], ...] = ()  # pages of steps, as the author broke them
    where: tuple[str, ...] = ()
    cost: tuple[str, ...] = ()
    if_it_fails: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()  # headings that are not one of SECTION_TITLES
    loose: tuple[str, ...] = ()  # text before the first heading

    @property
    def all_steps(self) -> tuple[str, ...]:
        """Every step, in order, across the author's page breaks."""
        return tuple(step for page in self.steps for step in page)

    def blocks(self) -> list[tuple[str, tuple[str, ...]]]:
        """The sections after the steps, as (heading, lines), in reading order."""
        named = [
            (SECTION_TITLES["where"], self.where),
            (SECTION_TITLES["cost"], self.cost),
            (SECTION_TITLES["if_it_fails"], self.if_it_fails),
            (SECTION_TITLES["notes"], self.notes),
        ]
        return [(title, lines) for title, lines in named if lines]


@dataclass(frozen=True)
class Guide:
    """One how-to guide, as loaded from its Markdown file."""

    slug: str
    title: str
    category: str
    summary: str
    body: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    reviewed: dt.date | None = None
    related: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)
    answer: str = ""  # the one-line answer shown first
    team_notes: tuple[str, ...] = ()  # for the content team only, never shown
    freshness: str = ""  # topic class for `guides check` ("fast", "normal", "slow")

    @property
    def category_title(self) -> str:
        """The Vietnamese name of the guide's category (the slug if unknown)."""
        return CATEGORIES.get(self.category, self.category)

    @property
    def questions(self) -> tuple[str, ...]:
        """The example questions (as residents type them) used by search."""
        return self.examples

    @functools.cached_property
    def sections(self) -> Sections:
        """The body split into its sections."""
        return parse_sections(self.body)

    def sources_line(self) -> str:
        """The citation line shown under the guide."""
        cited = "; ".join(source.render() for source in self.sources) or "Tổ công nghệ số"
        line = f"Nguồn: {cited}"
        if self.reviewed:
            line += f". Kiểm tra lại ngày {self.reviewed:%d/%m/%Y}"
        return line

    def resident_text(self) -> str:
        """Everything a resident can read of this guide (for checks and tests)."""
        return self.render()

    def render(self) -> str:
        """The whole guide as plain text, blocks separated by blank lines."""
        sections = self.sections
        parts = [self.title, self.answer, self.summary]
        parts.append(_block(SECTION_TITLES["prepare"], sections.prepare))
        parts.append(_block(SECTION_TITLES["steps"], sections.all_steps))
        parts.extend(_block(title, lines) for title, lines in sections.blocks())
        parts.append("\n".join(sections.loose))
        parts.append(self.sources_line())
        return "\n\n".join(part for part in parts if part.strip())

    def pages(self, limit: int = ZALO_LIMIT) -> list[str]:
        """The guide as phone pages, none over ``limit`` characters (see ``phone_pages``)."""
        pages: list[str] = []
        for page in self.phone_pages():
            pages.extend(split_pages(page, limit) if len(page) > limit else [page])
        return pages

    def phone_pages(self) -> list[str]:
        """Pages for a small phone: opening, steps, the rest, then the sources.

        Each page is packed up to ``PAGE_LINES`` wrapped lines; a block that cannot fit
        on the current page starts a new one, and a single over-long block stays whole
        on its own page (``guides check`` reports it).
        """
        sections = self.sections
        opening = "\n\n".join(part for part in (self.title, self.answer, self.summary) if part)
        packer = _Packer()
        packer.add(opening)
        if sections.prepare:
            packer.add(_block(SECTION_TITLES["prepare"], sections.prepare))
        packer.flush()
        chunks: list[str] = []
        for author_page in sections.steps:
            lines = list(author_page)
            while lines:
                heading = f"{SECTION_TITLES['steps']}:" if not chunks else STEPS_CONTINUED
                taken = [lines.pop(0)]
                while lines and fits("\n".join([heading, *taken, lines[0]])):
                    taken.append(lines.pop(0))
                chunks.append("\n".join([heading, *taken]))
        # Steps always start a page; the notes may follow the last steps on theirs.
        for chunk in chunks[:-1]:
            packer.add(chunk, alone=True)
        if chunks:
            packer.flush()
            packer.add(chunks[-1])
        for title, lines in sections.blocks():
            block = _block(title, lines)
            if fits(block):
                packer.add(block)
                continue
            # A long block is split between its lines, the heading repeated.
            pending = list(lines)
            while pending:
                taken = [pending.pop(0)]
                while pending and fits(_block(title, [*taken, pending[0]])):
                    taken.append(pending.pop(0))
                packer.add(_block(title, taken))
        if sections.loose:
            packer.add("\n".join(sections.loose))
        packer.add(self.sources_line())
        packer.flush()
        return packer.pages or [self.title]


class _Packer:
    """Pack text blocks into phone pages separated by blank lines."""

    def __init__(self) -> None:
        self.pages: list[str] = []
        self.current = ""

    def add(self, block: str, alone: bool = False) -> None:
        if not block.strip():
            return
        if alone:
            self.flush()
            self.pages.append(block)
            return
        candidate = f"{self.current}\n\n{block}" if self.current else block
        if self.current and not fits(candidate):
            self.flush()
            candidate = block
        self.current = candidate

    def flush(self) -> None:
        if self.current:
            self.pages.append(self.current)
            self.current = ""


def _block(title: str, lines: Iterable[str]) -> str:
    lines = list(lines)
    return "\n".join([f"{title}:", *lines]) if lines else ""


def phone_lines(text: str, width: int = PHONE_WIDTH) -> int:
    """How many lines ``text`` takes on a small phone (words wrapped at ``width``)."""
    return sum(max(1, len(textwrap.wrap(line, width))) for line in text.split("\n"))


def fits(text: str) -> bool:
    """Whether ``text`` fits on one phone page."""
    return phone_lines(text) <= PAGE_LINES


def format_partial_date(value: str) -> str:
    """Render ``2025-09-13`` as ``13/09/2025`` and ``2023-09`` as ``09/2023``."""
    parts = value.split("-")
    return "/".join(reversed(parts))


def partial_date(value: str) -> dt.date | None:
    """``2025-09-13`` → that day; ``2025-09`` → 1/9/2025; anything else → None."""
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return dt.date(int(year), int(month), int(day or 1))
    except ValueError:
        return None


def parse_sections(markdown: str) -> Sections:
    """Split a guide body into its sections, each line turned into plain text."""
    found: dict[str, list[str]] = {key: [] for key in SECTION_TITLES}
    step_pages: list[list[str]] = [[]]
    unknown: list[str] = []
    loose: list[str] = []
    current: str | None = None
    for raw in markdown.strip().splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            title = _inline(heading.group(1)).rstrip(":").strip()
            current = _SECTION_BY_TITLE.get(title.casefold())
            if current is None:
                unknown.append(title)
                current = "notes"
            continue
        if not line.strip():
            continue
        if current == "steps" and line.strip() == PAGE_BREAK:
            if step_pages[-1]:
                step_pages.append([])
            continue
        text = _plain_line(line)
        if current is None:
            loose.append(text)
        elif current == "steps":
            step_pages[-1].append(text)
        else:
            found[current].append(text)
    return Sections(
        prepare=tuple(found["prepare"]),
        steps=tuple(tuple(page) for page in step_pages if page),
        where=tuple(found["where"]),
        cost=tuple(found["cost"]),
        if_it_fails=tuple(found["if_it_fails"]),
        notes=tuple(found["notes"]),
        unknown=tuple(unknown),
        loose=tuple(loose),
    )


def _plain_line(line: str) -> str:
    if _BULLET.match(line):
        line = "• " + _BULLET.sub("", line, count=1)
    else:
        line = line.strip()
    return _inline(line).rstrip()


def render_body(markdown: str) -> str:
    """Turn the small Markdown subset used by guides into plain text."""
    lines: list[str] = []
    for raw in markdown.strip().splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            if lines and lines[-1] != "":
                lines.append("")
            title = _inline(heading.group(1))
            lines.append(title if title.endswith((":", "?", "!")) else f"{title}:")
            continue
        if line.strip() == PAGE_BREAK:
            continue
        if _BULLET.match(line):
            line = "• " + _BULLET.sub("", line, count=1)
        lines.append(_inline(line).rstrip())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _inline(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _EMPHASIS.sub(r"\2", text)


def split_pages(text: str, limit: int) -> list[str]:
    """Pack paragraphs (then lines, then words) into pages of at most ``limit`` characters."""
    if limit < 20:
        raise ValueError("page limit too small")
    pieces: list[str] = []
    for paragraph in text.split("\n\n"):
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for line in paragraph.split("\n"):
            pieces.extend(_hard_split(line, limit))
    pages: list[str] = []
    current = ""
    for piece in pieces:
        # A paragraph boundary costs "\n\n"; a piece cut from inside a paragraph still
        # starts on its own line, which reads fine on a phone.
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                pages.append(current)
            current = piece
    if current:
        pages.append(current)
    return pages or [""]


def _hard_split(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    chunks: list[str] = []
    current = ""
    for word in line.split(" "):
        while len(word) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks


def parse_guide(text: str, path: Path | None = None) -> Guide:
    """Parse one guide file's text (front matter + Markdown body)."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise GuideError(f"{path or 'guide'}: no front matter between '---' lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise GuideError(f"{path or 'guide'}: invalid front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise GuideError(f"{path or 'guide'}: front matter is not a mapping")
    slug = str(meta.get("slug") or (path.stem if path else ""))
    return Guide(
        slug=slug,
        title=_text(meta.get("title")),
        category=_text(meta.get("category")),
        summary=_text(meta.get("summary")),
        body=match.group(2).strip(),
        examples=_strings(meta.get("questions", meta.get("examples"))),
        keywords=_strings(meta.get("keywords")),
        sources=_sources(meta.get("sources")),
        reviewed=_date(meta.get("reviewed")),
        related=_strings(meta.get("related")),
        path=path,
        answer=_text(meta.get("answer")),
        team_notes=_strings(meta.get("team_notes")),
        freshness=_text(meta.get("freshness")),
    )


def load_guides(directory: Path | None = None) -> list[Guide]:
    """Load every ``*.md`` guide of a directory (default: the packaged guides), sorted by slug.

    ``README.md`` is the content team's documentation, not a guide.
    """
    directory = directory or GUIDES_DIR
    guides = [
        parse_guide(path.read_text(encoding="utf-8"), path)
        for path in sorted(directory.glob("*.md"))
        if path.name != "README.md"
    ]
    return sorted(guides, key=lambda guide: guide.slug)


@dataclass(frozen=True)
class Office:
    """An office that handles topics no guide covers (e.g. the commune police)."""

    id: str
    name: str  # Vietnamese, shown to the resident
    name_en: str = ""
    source: Source | None = None
    checked: dt.date | None = None


@dataclass(frozen=True)
class OfficeTopic:
    """A topic no guide covers and the office that handles it, found by keywords."""

    id: str
    office: str  # an Office.id
    keywords: tuple[str, ...] = ()
    source: Source | None = None
    note: str = ""  # Vietnamese, shown after the office's name (optional)


@dataclass(frozen=True)
class OfficeTable:
    """``guides/offices.yaml``: the offices and the out-of-scope topics they handle."""

    offices: tuple[Office, ...] = ()
    topics: tuple[OfficeTopic, ...] = ()

    def office(self, office_id: str) -> Office | None:
        """The office with this id, if any."""
        return next((office for office in self.offices if office.id == office_id), None)


def load_offices(path: Path | None = None) -> OfficeTable:
    """Read the office table (default: ``guides/offices.yaml``)."""
    path = path or OFFICES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise GuideError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise GuideError(f"{path}: expected a mapping with 'offices' and 'topics'")
    offices: list[Office] = []
    for item in _mappings(data.get("offices"), path, "offices"):
        offices.append(
            Office(
                id=_text(item.get("id")),
                name=_text(item.get("name")),
                name_en=_text(item.get("name_en")),
                source=_source_of(item),
                checked=_date(item.get("checked")),
            )
        )
    topics: list[OfficeTopic] = []
    for item in _mappings(data.get("topics"), path, "topics"):
        topics.append(
            OfficeTopic(
                id=_text(item.get("id")),
                office=_text(item.get("office")),
                keywords=_strings(item.get("keywords")),
                source=_source_of(item),
                note=_text(item.get("note")),
            )
        )
    return OfficeTable(offices=tuple(offices), topics=tuple(topics))


def _mappings(value: Any, path: Path, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise GuideError(f"{path}: '{key}' must be a list of mappings")
    return value


def _source_of(item: dict[str, Any]) -> Source | None:
    """An entry's ``source`` (a URL) with its optional publisher, date and supports."""
    ref = _text(item.get("source"))
    if not ref:
        return None
    date = item.get("date")
    if isinstance(date, dt.date):
        date = date.isoformat()
    return Source(
        ref=ref,
        date=_text(date) or None,
        publisher=_text(item.get("publisher")),
        supports=_text(item.get("supports")),
    )


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(" ".join(str(item).split()) for item in value if str(item).strip())


def _sources(value: Any) -> tuple[Source, ...]:
    sources: list[Source] = []
    for item in value or []:
        if isinstance(item, str):
            sources.append(Source(ref=item))
        elif isinstance(item, dict):
            ref = _text(item.get("url") or item.get("site"))
            date = item.get("date")
            if isinstance(date, dt.date):
                date = date.isoformat()
            sources.append(
                Source(
                    ref=ref,
                    date=_text(date) or None,
                    publisher=_text(item.get("publisher")),
                    supports=_text(item.get("supports")),
                    menu=_strings(item.get("menu")),
                )
            )
    return tuple(sources)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def newest_source(sources: Sequence[Source]) -> dt.date | None:
    """The most recent dated source, if any."""
    days = [day for day in (source.day for source in sources) if day]
    return max(days) if days else None
