"""How-to guides for residents: Markdown files with YAML front matter.

Each file in ``bot/content/guides/`` is one guide; adding a guide is adding a file.
Guides are written in Vietnamese only (they are content, not interface strings), so
the rendered text, including the "Nguồn: …" line, is Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GUIDES_DIR = Path(__file__).parent / "guides"

# Category slug → Vietnamese title, in menu order.
CATEGORIES: dict[str, str] = {
    "vneid": "VNeID – định danh điện tử",
    "dich-vu-cong": "Dịch vụ công trực tuyến",
    "chu-ky-so": "Chữ ký số",
    "suc-khoe": "Sức khỏe – bảo hiểm",
    "ngan-hang": "Ngân hàng – thanh toán",
    "lua-dao": "Phòng chống lừa đảo",
    "ky-nang-so": "Kỹ năng số",
}

ZALO_LIMIT = 2000
TELEGRAM_LIMIT = 4096

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")


class GuideError(ValueError):
    """A guide file cannot be read (missing front matter, bad YAML)."""


@dataclass(frozen=True)
class Source:
    """Where a guide's facts come from: a URL or a site name, and the page's date."""

    ref: str
    date: str | None = None  # "YYYY-MM-DD" or "YYYY-MM", as precise as the page says

    def render(self) -> str:
        """Plain-text citation, e.g. ``sggp.org.vn (09/2023)``."""
        label = re.sub(r"^https?://", "", self.ref).rstrip("/")
        if len(label) > 60:
            label = label.split("/", 1)[0]
        return f"{label} ({format_partial_date(self.date)})" if self.date else label


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

    @property
    def category_title(self) -> str:
        """The Vietnamese name of the guide's category (the slug if unknown)."""
        return CATEGORIES.get(self.category, self.category)

    def sources_line(self) -> str:
        """The citation line shown under the guide."""
        cited = "; ".join(source.render() for source in self.sources) or "Tổ công nghệ số"
        line = f"Nguồn: {cited}"
        if self.reviewed:
            line += f", cập nhật {self.reviewed:%d/%m/%Y}"
        return line

    def render(self) -> str:
        """The whole guide as plain text (no Markdown markup), paragraphs split by blank lines."""
        parts = [self.title, self.summary, render_body(self.body), self.sources_line()]
        return "\n\n".join(part for part in parts if part.strip())

    def pages(self, limit: int = ZALO_LIMIT) -> list[str]:
        """Split the rendered guide into messages of at most ``limit`` characters."""
        return split_pages(self.render(), limit)


def format_partial_date(value: str) -> str:
    """Render ``2025-09-13`` as ``13/09/2025`` and ``2023-09`` as ``09/2023``."""
    parts = value.split("-")
    return "/".join(reversed(parts))


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
        examples=_strings(meta.get("examples")),
        keywords=_strings(meta.get("keywords")),
        sources=_sources(meta.get("sources")),
        reviewed=_date(meta.get("reviewed")),
        related=_strings(meta.get("related")),
        path=path,
    )


def load_guides(directory: Path | None = None) -> list[Guide]:
    """Load every ``*.md`` guide of a directory (default: the packaged guides), sorted by slug."""
    directory = directory or GUIDES_DIR
    guides = [
        parse_guide(path.read_text(encoding="utf-8"), path)
        for path in sorted(directory.glob("*.md"))
    ]
    return sorted(guides, key=lambda guide: guide.slug)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(str(item).strip() for item in value if str(item).strip())


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
            sources.append(Source(ref=ref, date=_text(date) or None))
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
