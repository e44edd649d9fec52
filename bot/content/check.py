"""Validate the guide library (run by ``tocns guides check`` and by the tests)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from bot.content.guides import CATEGORIES, TELEGRAM_LIMIT, ZALO_LIMIT, Guide

# Printed on posters as deep links and QR codes: these slugs must never change.
REQUIRED_SLUGS: tuple[str, ...] = (
    "vneid-cai-dat",
    "vneid-muc-2",
    "vneid-kich-hoat",
    "vneid-quen-mat-khau",
    "vneid-tich-hop-giay-to",
    "vneid-xuat-trinh",
    "so-suc-khoe-dien-tu",
    "chu-ky-so-dang-ky",
    "chu-ky-so-ky-tai-lieu",
    "dvc-dang-nhap",
    "dvc-nop-ho-so",
    "dvc-thanh-toan",
    "dvc-khai-sinh",
    "cu-tru-luu-tru",
    "ly-lich-tu-phap",
    "giay-phep-lai-xe",
    "dia-chi-sau-sap-nhap",
    "chuyen-khoan-qr",
    "sinh-trac-hoc-ngan-hang",
    "hoa-don-truc-tuyen",
    "vssid",
    "lua-dao-gia-danh",
    "lua-dao-link-otp",
    "bi-lua-dao",
    "bao-mat-tai-khoan",
    "thuong-mai-dien-tu",
    "binh-dan-hoc-vu-so",
    "hoc-ai-an-toan",
)

MIN_EXAMPLES = 6
# Telegram deep-link payload is "g_<slug>", at most 64 characters of [A-Za-z0-9_-].
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_SLUG = 62
_SOURCE_DATE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")


def check_guides(guides: Sequence[Guide]) -> list[str]:
    """Return every problem found in the library (an empty list means all is well)."""
    problems: list[str] = []
    slugs = Counter(guide.slug for guide in guides)
    for slug, count in slugs.items():
        if count > 1:
            problems.append(f"{slug}: slug used by {count} files")
    for slug in REQUIRED_SLUGS:
        if slug not in slugs:
            problems.append(f"{slug}: required guide is missing")
    for guide in guides:
        problems.extend(f"{guide.slug or guide.path}: {p}" for p in _check_one(guide, slugs))
    return problems


def _check_one(guide: Guide, slugs: Counter[str]) -> list[str]:
    problems: list[str] = []
    if not _SLUG.match(guide.slug) or len(guide.slug) > _MAX_SLUG:
        problems.append("slug must be lower-case words joined by '-', at most 62 characters")
    if guide.path is not None and guide.path.stem != guide.slug:
        problems.append(f"file name {guide.path.name} does not match the slug")
    for name in ("title", "category", "summary", "body"):
        if not getattr(guide, name).strip():
            problems.append(f"front matter field '{name}' is missing or empty")
    if guide.category and guide.category not in CATEGORIES:
        problems.append(f"unknown category '{guide.category}'")
    if "\n" in guide.summary:
        problems.append("summary must be one line")
    if len(guide.examples) < MIN_EXAMPLES:
        problems.append(f"needs at least {MIN_EXAMPLES} example questions")
    if not guide.keywords:
        problems.append("needs keywords")
    if guide.reviewed is None:
        problems.append("needs a 'reviewed' date (YYYY-MM-DD)")
    if not guide.sources:
        problems.append("needs at least one source")
    elif not any(source.date for source in guide.sources):
        problems.append("needs at least one dated source")
    for source in guide.sources:
        if not source.ref:
            problems.append("a source has neither url nor site")
        if source.date and not _SOURCE_DATE.match(source.date):
            problems.append(f"source date '{source.date}' is not YYYY-MM or YYYY-MM-DD")
    for related in guide.related:
        if related not in slugs:
            problems.append(f"related guide '{related}' does not exist")
        if related == guide.slug:
            problems.append("a guide cannot be related to itself")
    if "## Các bước" not in guide.body or not re.search(r"^1\. ", guide.body, re.MULTILINE):
        problems.append("body needs a '## Các bước' section with numbered steps")
    if "## Cần chuẩn bị" not in guide.body:
        problems.append("body needs a '## Cần chuẩn bị' section")
    for limit, channel in ((ZALO_LIMIT, "Zalo"), (TELEGRAM_LIMIT, "Telegram")):
        for number, page in enumerate(guide.pages(limit), 1):
            if len(page) > limit:
                problems.append(
                    f"page {number} has {len(page)} characters, over {channel}'s {limit}"
                )
    return problems
