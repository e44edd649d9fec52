"""The guide library: loading, rendering, paging and validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.content.check import REQUIRED_SLUGS, check_guides
from bot.content.guides import (
    CATEGORIES,
    TELEGRAM_LIMIT,
    ZALO_LIMIT,
    Guide,
    GuideError,
    load_guides,
    parse_guide,
    split_pages,
)

GUIDE_TEXT = """---
slug: thu-nghiem
title: "Hướng dẫn thử: một, hai"
category: vneid
summary: Một dòng tóm tắt.
keywords: [thử]
examples: [a, b, c, d, e, f]
sources:
  - url: https://example.gov.vn/trang
    date: 2025-09-13
  - site: vi-du.vn
    date: 2023-09
  - site: khong-ngay.vn
reviewed: 2026-11-23
related: []
---
## Cần chuẩn bị
- **Căn cước** gắn chip.

## Các bước
1. Mở [trang](https://dichvucong.gov.vn).
2. Bấm *Gửi*.
"""


@pytest.fixture(scope="module")
def guides() -> list[Guide]:
    return load_guides()


def test_library_passes_check(guides: list[Guide]) -> None:
    assert check_guides(guides) == []


def test_every_required_slug_exists(guides: list[Guide]) -> None:
    assert set(REQUIRED_SLUGS) <= {guide.slug for guide in guides}
    assert len(REQUIRED_SLUGS) == 28


def test_every_category_is_used_and_known(guides: list[Guide]) -> None:
    assert {guide.category for guide in guides} == set(CATEGORIES)


def test_parse_front_matter_and_render_plain_text() -> None:
    guide = parse_guide(GUIDE_TEXT, Path("thu-nghiem.md"))
    assert guide.title == "Hướng dẫn thử: một, hai"
    assert guide.reviewed == dt.date(2026, 11, 23)
    assert [s.date for s in guide.sources] == ["2025-09-13", "2023-09", None]
    text = guide.render()
    assert "**" not in text and "##" not in text and "](" not in text
    assert "Cần chuẩn bị:\n• Căn cước gắn chip." in text
    assert "1. Mở trang (https://dichvucong.gov.vn)." in text
    assert "2. Bấm Gửi." in text
    assert text.endswith(
        "Nguồn: example.gov.vn/trang (13/09/2025); vi-du.vn (09/2023); khong-ngay.vn,"
        " cập nhật 23/11/2026"
    )


def test_bad_front_matter_is_reported() -> None:
    with pytest.raises(GuideError):
        parse_guide("no front matter here")
    with pytest.raises(GuideError):
        parse_guide("---\ntitle: a: b\n---\nbody")


def test_check_reports_problems() -> None:
    guide = parse_guide(GUIDE_TEXT.replace("examples: [a, b, c, d, e, f]", "examples: [a]"))
    broken = Guide(
        slug="Bad Slug",
        title="",
        category="khac",
        summary="x",
        body="no steps",
        related=("khong-co",),
    )
    problems = check_guides([guide, broken])
    assert any("vneid-cai-dat: required guide is missing" in p for p in problems)
    assert any("thu-nghiem: needs at least 6 example questions" in p for p in problems)
    assert any("unknown category 'khac'" in p for p in problems)
    assert any("related guide 'khong-co' does not exist" in p for p in problems)
    assert any("needs at least one source" in p for p in problems)
    assert any("'title' is missing" in p for p in problems)


def test_every_page_fits_both_channels(guides: list[Guide]) -> None:
    for guide in guides:
        for limit in (ZALO_LIMIT, TELEGRAM_LIMIT):
            pages = guide.pages(limit)
            assert all(0 < len(page) <= limit for page in pages)
            # Nothing is lost when paging (only the separators between pages differ).
            assert "".join(pages).replace("\n", "") == guide.render().replace("\n", "")


def test_scam_guides_state_the_official_line(guides: list[Guide]) -> None:
    by_slug = {guide.slug: guide for guide in guides}
    for slug in ("lua-dao-gia-danh", "lua-dao-link-otp", "bi-lua-dao"):
        text = by_slug[slug].render()
        assert "5656" in text and "156" in text
        assert "OTP" in text
    warning = by_slug["lua-dao-gia-danh"].render()
    assert "trực tiếp" in warning and "CH Play" in warning


def test_split_pages_breaks_at_paragraphs_then_lines_then_words() -> None:
    text = "\n\n".join(["a" * 30, "b" * 30, "c " * 40])
    pages = split_pages(text, 65)
    assert pages[0] == "a" * 30 + "\n\n" + "b" * 30
    assert all(len(page) <= 65 for page in pages)
    assert split_pages("x" * 150, 60) == ["x" * 60, "x" * 60, "x" * 30]
    with pytest.raises(ValueError):
        split_pages("abc", 5)


def test_adding_a_guide_is_adding_a_file(tmp_path: Path) -> None:
    (tmp_path / "thu-nghiem.md").write_text(GUIDE_TEXT, encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a guide", encoding="utf-8")
    loaded = load_guides(tmp_path)
    assert [guide.slug for guide in loaded] == ["thu-nghiem"]
    assert loaded[0].path == tmp_path / "thu-nghiem.md"
