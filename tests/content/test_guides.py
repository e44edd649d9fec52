"""The guide library: loading, phone pages, and every rule of `tocns guides check`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.content.check import (
    FRESHNESS_MONTHS,
    MIN_GUIDES,
    REQUIRED_SLUGS,
    check_guide,
    check_guides,
    check_offices_file,
    fact_tokens,
    ui_labels,
)
from bot.content.guides import (
    CATEGORIES,
    PAGE_LINES,
    TELEGRAM_LIMIT,
    ZALO_LIMIT,
    Guide,
    GuideError,
    load_guides,
    load_offices,
    parse_guide,
    phone_lines,
    split_pages,
)

TODAY = dt.date(2026, 12, 1)

GUIDE_TEXT = """---
slug: thu-nghiem
title: "Hướng dẫn thử: một, hai"
category: vneid
answer: "Mở VNeID và chọn mục cần dùng."
summary: "Một câu tóm tắt ngắn. Câu thứ hai."
keywords: [thử, thu nghiem]
questions: [làm thế nào, lam the nao, hỏi gì, hoi gi, mẫu, mau]
sources:
  - url: https://example.gov.vn/trang
    publisher: Cổng thông tin thử
    date: 2025-09-13
    supports: "Từ 1/7/2025 cấp tại công an xã; phí 200.000 đồng; Nghị định 69/2024/NĐ-CP"
    menu: ["Ví giấy tờ → Tích hợp giấy tờ"]
  - url: https://vi-du.vn/bai
    publisher: Báo Ví dụ
    date: 2023-09
    supports: "Cách cài ứng dụng"
reviewed: 2026-11-23
related: []
team_notes:
  - "Chưa đọc được đường dẫn đầy đủ trong bài báo ví dụ."
---
## Cần chuẩn bị
- **Căn cước** gắn chip.

## Các bước
1. Mở [trang](https://dichvucong.gov.vn).
2. Chọn "Ví giấy tờ" → "Tích hợp giấy tờ".
---
3. Gửi yêu cầu.

## Chi phí
- 200.000 đồng (Nghị định 69/2024/NĐ-CP), từ 1/7/2025.
"""


def guide_from(text: str = GUIDE_TEXT, **changes: object) -> Guide:
    guide = parse_guide(text, Path("thu-nghiem.md"))
    return dataclasses.replace(guide, **changes) if changes else guide


def problems_of(guide: Guide) -> list[str]:
    return check_guide(guide, {guide.slug}, TODAY)


@pytest.fixture(scope="module")
def guides() -> list[Guide]:
    return load_guides()


# The packaged library


def test_library_passes_check(guides: list[Guide]) -> None:
    assert check_guides(guides, today=TODAY) == []


def test_library_has_the_required_slugs_and_enough_guides(guides: list[Guide]) -> None:
    assert set(REQUIRED_SLUGS) <= {guide.slug for guide in guides}
    assert len(REQUIRED_SLUGS) == 28
    assert len(guides) >= MIN_GUIDES


def test_every_category_is_used_and_known(guides: list[Guide]) -> None:
    assert {guide.category for guide in guides} == set(CATEGORIES)


def test_every_page_fits_a_small_phone_and_both_channels(guides: list[Guide]) -> None:
    for guide in guides:
        for page in guide.phone_pages():
            assert phone_lines(page) <= PAGE_LINES, (guide.slug, page)
        for limit in (ZALO_LIMIT, TELEGRAM_LIMIT):
            assert all(0 < len(page) <= limit for page in guide.pages(limit))


def test_pages_lose_nothing_of_the_guide(guides: list[Guide]) -> None:
    for guide in guides:
        paged = "\n".join(guide.phone_pages())
        for line in guide.render().split("\n"):
            assert line in paged, (guide.slug, line)


def test_no_guide_reads_like_a_team_note_or_says_press(guides: list[Guide]) -> None:
    for guide in guides:
        text = guide.render().casefold()
        assert "chúng tôi chưa" not in text and "menu chính xác" not in text, guide.slug
        assert " bấm " not in f" {text} ", guide.slug


def test_scam_guides_state_the_official_line(guides: list[Guide]) -> None:
    by_slug = {guide.slug: guide for guide in guides}
    for slug in ("lua-dao-gia-danh", "lua-dao-link-otp", "bi-lua-dao"):
        text = by_slug[slug].render()
        assert "OTP" in text
    warning = by_slug["lua-dao-gia-danh"].render()
    assert "trực tiếp" in warning and "CH Play" in warning
    link = by_slug["lua-dao-link-otp"].render()
    assert "100.000" in link and "sáp nhập" in link and ".gov.vn" in link


def test_the_real_approval_sms_is_not_called_a_scam(guides: list[Guide]) -> None:
    by_slug = {guide.slug: guide for guide in guides}
    for slug in ("vneid-kich-hoat", "vneid-tin-nhan-phe-duyet"):
        text = by_slug[slug].render()
        assert "vneid.gov.vn" in text
        assert "tự mở" in text  # open the app yourself, from the store
    assert "thật" in by_slug["vneid-tin-nhan-phe-duyet"].answer


def test_fixed_facts_stay_fixed(guides: list[Guide]) -> None:
    by_slug = {guide.slug: guide for guide in guides}
    assert "miễn phí năm đầu" not in by_slug["chu-ky-so-dang-ky"].render()
    assert "khác nhau" in by_slug["chu-ky-so-dang-ky"].render()
    assert "huyện" not in by_slug["vneid-muc-2"].sections.where[0]
    payment = by_slug["dvc-thanh-toan"].render()
    assert "trước" in payment and "sau" in payment
    health = by_slug["so-suc-khoe-dien-tu"]
    assert any("Sổ sức khỏe điện tử" in step for step in health.sections.all_steps)


def test_offices_table_is_valid() -> None:
    table = load_offices()
    assert len(table.offices) >= 8 and len(table.topics) >= 10
    assert all(office.source and office.name for office in table.offices)
    assert {topic.office for topic in table.topics} <= {office.id for office in table.offices}
    assert all(topic.keywords and topic.source for topic in table.topics)


# Loading and pages


def test_parse_front_matter_and_sections() -> None:
    guide = guide_from()
    assert guide.title == "Hướng dẫn thử: một, hai"
    assert guide.answer == "Mở VNeID và chọn mục cần dùng."
    assert guide.questions == guide.examples and len(guide.examples) == 6
    assert guide.reviewed == dt.date(2026, 11, 23)
    assert [s.date for s in guide.sources] == ["2025-09-13", "2023-09"]
    assert guide.team_notes == ("Chưa đọc được đường dẫn đầy đủ trong bài báo ví dụ.",)
    sections = guide.sections
    assert sections.prepare == ("• Căn cước gắn chip.",)
    assert sections.steps == (
        ("1. Mở trang (https://dichvucong.gov.vn).", '2. Chọn "Ví giấy tờ" → "Tích hợp giấy tờ".'),
        ("3. Gửi yêu cầu.",),
    )
    assert sections.cost == ("• 200.000 đồng (Nghị định 69/2024/NĐ-CP), từ 1/7/2025.",)


def test_render_is_plain_text_with_sources_and_never_team_notes() -> None:
    text = guide_from().render()
    assert "**" not in text and "##" not in text and "](" not in text and "---" not in text
    assert "Cần chuẩn bị:\n• Căn cước gắn chip." in text
    assert text.endswith(
        "Nguồn: Cổng thông tin thử (13/09/2025); Báo Ví dụ (09/2023)."
        " Kiểm tra lại ngày 23/11/2026"
    )
    assert "Chưa đọc được" not in text


def test_phone_pages_open_with_the_answer_and_honour_page_breaks() -> None:
    pages = guide_from().phone_pages()
    assert pages[0].startswith("Hướng dẫn thử: một, hai\n\nMở VNeID và chọn mục cần dùng.")
    assert pages[1].startswith("Các bước:\n1. ")
    # The last steps may share their page with the notes that follow.
    assert pages[2].startswith("Các bước (tiếp):\n3. Gửi yêu cầu.\n\nChi phí:")
    assert pages[-1].endswith("Kiểm tra lại ngày 23/11/2026")
    assert all(phone_lines(page) <= PAGE_LINES for page in pages)


def test_long_step_lists_are_paged_without_splitting_a_step() -> None:
    steps = "\n".join(f"{n}. Chọn mục số {n} rồi đợi màn hình tiếp theo hiện ra." for n in range(1, 13))
    text = GUIDE_TEXT.split("## Các bước")[0] + "## Các bước\n" + steps + "\n"
    guide = guide_from(text)
    step_pages = [page for page in guide.phone_pages() if page.startswith("Các bước")]
    assert len(step_pages) >= 3
    assert all(phone_lines(page) <= PAGE_LINES for page in step_pages)
    joined = "\n".join(step_pages)
    assert all(f"{n}. Chọn mục số {n}" in joined for n in range(1, 13))


def test_phone_lines_wrap_words() -> None:
    assert phone_lines("ngắn") == 1
    assert phone_lines("a\n\nb") == 3
    assert phone_lines(" ".join(["chữ"] * 30), width=40) == 3


def test_bad_front_matter_is_reported() -> None:
    with pytest.raises(GuideError):
        parse_guide("no front matter here")
    with pytest.raises(GuideError):
        parse_guide("---\ntitle: a: b\n---\nbody")


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
    (tmp_path / "README.md").write_text("# not a guide", encoding="utf-8")
    loaded = load_guides(tmp_path)
    assert [guide.slug for guide in loaded] == ["thu-nghiem"]
    assert loaded[0].path == tmp_path / "thu-nghiem.md"


# The rules of `tocns guides check`, one by one


def test_a_well_formed_guide_has_no_problem() -> None:
    assert problems_of(guide_from()) == []


def test_library_rules_required_slugs_size_and_duplicates() -> None:
    guide = guide_from()
    problems = check_guides([guide, guide], today=TODAY, offices=[])
    assert "vneid-cai-dat: thiếu hướng dẫn bắt buộc (đã in trên áp phích)" in problems
    assert "thu-nghiem: tên (slug) bị 2 tệp dùng chung" in problems
    assert f"thư viện chỉ có 2 hướng dẫn, cần ít nhất {MIN_GUIDES}" in problems


def test_missing_front_matter_is_named() -> None:
    problems = problems_of(guide_from(answer="", summary="", title="", category="khac"))
    assert "thiếu câu trả lời một dòng (answer)" in problems
    assert "thiếu tóm tắt (summary)" in problems
    assert "thiếu tiêu đề (title)" in problems
    assert "nhóm 'khac' không có trong danh mục" in problems


def test_questions_and_keywords_are_typed_with_and_without_diacritics() -> None:
    problems = problems_of(guide_from(examples=("một", "bốn", "năm", "sáu", "bảy", "tám")))
    assert "câu hỏi mẫu phải có cả câu gõ có dấu và câu gõ không dấu" in problems
    assert "cần ít nhất 6 câu hỏi mẫu (questions)" in problems_of(guide_from(examples=("a",)))
    problems = problems_of(guide_from(keywords=("căn cước", "định danh")))
    assert "từ khóa phải có cả dạng có dấu và không dấu, như người dân hay gõ" in problems


def test_a_guide_without_sources_fails() -> None:
    problems = problems_of(guide_from(sources=()))
    assert "không có nguồn nào: mọi thông tin phải có nguồn" in problems
    assert sum("không có trong 'supports'" in p for p in problems) == 3


def test_every_source_says_who_when_and_what_it_supports() -> None:
    guide = guide_from()
    bare = dataclasses.replace(guide.sources[1], publisher="", supports="", ref="vi-du.vn")
    problems = problems_of(dataclasses.replace(guide, sources=(guide.sources[0], bare)))
    assert "nguồn 2: 'vi-du.vn' không phải địa chỉ http(s) đầy đủ" in problems
    assert "nguồn 2: thiếu nơi đăng (publisher)" in problems
    assert "nguồn 2: thiếu phần nguồn này chứng minh điều gì (supports)" in problems
    undated = tuple(dataclasses.replace(s, date=None) for s in guide.sources)
    assert "không nguồn nào có ngày: cần ít nhất một nguồn có ngày đăng" in problems_of(
        dataclasses.replace(guide, sources=undated)
    )


def test_a_number_no_source_supports_fails() -> None:
    guide = guide_from()
    first = dataclasses.replace(guide.sources[0], supports="Cấp tại công an xã")
    problems = problems_of(dataclasses.replace(guide, sources=(first, guide.sources[1])))
    unsourced = [p for p in problems if "không có trong 'supports'" in p]
    assert [p.split("'")[1] for p in unsourced] == ["69/2024/NĐ-CP", "200.000", "1/7/2025"]


def test_fact_tokens_find_prices_dates_laws_and_phone_numbers() -> None:
    text = (
        "1. Gọi 1900.0368 hoặc báo 5656.\n"
        "2. Từ 1/7/2025 theo Nghị định 69/2024/NĐ-CP, phí 200.000 đ, trong 60 ngày.\n"
        "3. Trả lời 2 câu hỏi bảo mật, đặt passcode 6 số."
    )
    assert fact_tokens(text) == ["1900.0368", "5656", "69/2024/NĐ-CP", "1/7/2025", "200.000", "60"]


def test_an_old_source_fails_a_fast_changing_topic_only() -> None:
    guide = guide_from()
    old = tuple(dataclasses.replace(s, date="2024-03") for s in guide.sources)
    months = FRESHNESS_MONTHS["fast"]
    problems = problems_of(dataclasses.replace(guide, sources=old))
    assert (
        f"nguồn mới nhất (03/2024) đã quá {months} tháng cho chủ đề thay đổi nhanh: "
        "cần kiểm tra lại với nguồn mới"
    ) in problems
    relaxed = dataclasses.replace(guide, sources=old, freshness="slow")
    assert not any("đã quá" in p for p in problems_of(relaxed))
    assert "freshness 'weekly' không hợp lệ (dùng fast, normal, slow)" in problems_of(
        dataclasses.replace(guide, freshness="weekly")
    )


def test_a_menu_path_no_source_confirms_fails() -> None:
    guide = guide_from()
    unconfirmed = tuple(dataclasses.replace(s, menu=()) for s in guide.sources)
    problems = problems_of(dataclasses.replace(guide, sources=unconfirmed))
    assert [p for p in problems if p.startswith("màn hình/menu")] == [
        "màn hình/menu 'ví giấy tờ' chưa được nguồn nào xác nhận: thêm vào 'menu' của "
        "nguồn đã đọc, hoặc bỏ tên mục khỏi bài",
        "màn hình/menu 'tích hợp giấy tờ' chưa được nguồn nào xác nhận: thêm vào 'menu' của "
        "nguồn đã đọc, hoặc bỏ tên mục khỏi bài",
    ]


def test_ui_labels_are_quoted_choices_and_arrow_paths() -> None:
    text = (
        '1. Chọn "Ví giấy tờ" rồi "Thông tin cư trú".\n'
        "2. Vào mục Thủ tục hành chính → Cấp phiếu Lý lịch tư pháp.\n"
        '3. Gõ "đăng ký kết hôn" vào ô tìm kiếm.'
    )
    assert ui_labels(text) == [
        "ví giấy tờ",
        "thủ tục hành chính",
        "cấp phiếu lý lịch tư pháp",
    ]


def test_team_notes_never_reach_the_resident() -> None:
    leaked = GUIDE_TEXT.replace(
        "3. Gửi yêu cầu.", "3. Gửi yêu cầu. Chúng tôi chưa có đường dẫn menu chính xác."
    )
    problems = problems_of(guide_from(leaked))
    assert any(p.startswith("ghi chú cho nhóm nội dung lọt vào") for p in problems)
    copied = GUIDE_TEXT.replace(
        "3. Gửi yêu cầu.", "3. Chưa đọc được đường dẫn đầy đủ trong bài báo ví dụ."
    )
    assert "một ghi chú trong team_notes cũng xuất hiện trong chữ người dân đọc" in problems_of(
        guide_from(copied)
    )


def test_never_press_a_button_the_channel_does_not_show() -> None:
    pressed = GUIDE_TEXT.replace("3. Gửi yêu cầu.", "3. Bấm Gửi yêu cầu.")
    assert (
        "không viết 'Bấm': Zalo và máy tính không hiện nút; dùng 'chọn' hoặc 'mở' cho "
        "màn hình ứng dụng"
    ) in problems_of(guide_from(pressed))
    bot_button = GUIDE_TEXT.replace("3. Gửi yêu cầu.", "3. Gửi yêu cầu, rồi chọn Tiếp.")
    assert "không nhắc đến nút của chính bot ('chọn Tiếp')" in problems_of(guide_from(bot_button))


def test_a_page_too_long_for_a_phone_fails() -> None:
    long_summary = " ".join(["Tóm tắt rất dài cho người đọc."] * 12)
    problems = problems_of(guide_from(summary=long_summary))
    assert any(p.startswith("tóm tắt dài") for p in problems)
    assert any(p.startswith("trang 1 dài") and "tối đa 11" in p for p in problems)
    long_step = GUIDE_TEXT.replace(
        "3. Gửi yêu cầu.", "3. " + " ".join(["Làm việc này rồi việc khác nữa."] * 6)
    )
    assert any("mỗi bước chỉ một việc" in p for p in problems_of(guide_from(long_step)))


def test_steps_are_numbered_and_sections_known() -> None:
    skipped = GUIDE_TEXT.replace("3. Gửi yêu cầu.", "5. Gửi yêu cầu.")
    assert "các bước phải đánh số liền nhau 1, 2, 3… (mỗi dòng một bước)" in problems_of(
        guide_from(skipped)
    )
    odd = GUIDE_TEXT.replace("## Chi phí", "## Giá tiền")
    assert any(p.startswith("mục '## Giá tiền' không thuộc") for p in problems_of(guide_from(odd)))
    nothing = GUIDE_TEXT.replace("- **Căn cước** gắn chip.", "- Không cần chuẩn bị gì.")
    assert "mục 'Cần chuẩn bị' chỉ viết khi có thứ cần chuẩn bị" in problems_of(
        guide_from(nothing)
    )


def test_a_guide_named_in_the_text_must_exist_by_that_title() -> None:
    text = GUIDE_TEXT.replace("3. Gửi yêu cầu.", '3. Xem hướng dẫn "Không có bài này".')
    guide = guide_from(text)
    problems = check_guides([guide], today=TODAY, offices=[])
    assert (
        'thu-nghiem: nhắc đến hướng dẫn "Không có bài này" nhưng không có hướng dẫn nào '
        "mang đúng tên này"
    ) in problems


def test_related_guides_and_reviewed_date_are_checked() -> None:
    problems = problems_of(guide_from(related=("khong-co",), reviewed=dt.date(2027, 1, 1)))
    assert "hướng dẫn liên quan 'khong-co' không tồn tại" in problems
    assert "ngày kiểm tra 01/01/2027 ở tương lai" in problems


def test_offices_file_rules(tmp_path: Path) -> None:
    path = tmp_path / "offices.yaml"
    path.write_text(
        "offices:\n"
        "  - id: ubnd-xa\n"
        "    name: Bấm vào đây, gọi 0123.456.789\n"
        "    source: https://example.gov.vn/a\n"
        "    publisher: Cổng thử\n"
        "    date: 2020-01\n"
        "    supports: thủ tục đất đai ở xã\n"
        "  - id: ubnd-xa\n"
        "    name: UBND xã\n"
        "topics:\n"
        "  - id: dat-dai\n"
        "    office: khong-co\n"
        "    keywords: []\n",
        encoding="utf-8",
    )
    problems = check_offices_file(path, TODAY)
    assert "cơ quan 'ubnd-xa' lặp 2 lần" in problems
    assert "ubnd-xa: không viết 'bấm'/'nhấn'" in problems
    assert "ubnd-xa: thiếu ngày kiểm tra (checked)" in problems
    assert "ubnd-xa: nguồn (01/2020) đã cũ" in problems
    assert "ubnd-xa: thiếu nguồn (source)" in problems
    assert any(p.startswith("ubnd-xa: '0123.456.789'") for p in problems)
    assert "dat-dai: cơ quan 'khong-co' không có trong danh sách 'offices'" in problems
    assert "dat-dai: thiếu từ khóa" in problems
