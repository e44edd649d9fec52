"""Guide search: bars on real residents' questions, harm rules, typed results, robustness."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.guides import load_guides
from bot.content.search import (
    Answer,
    GuideIndex,
    OfficeHint,
    is_greeting,
    normalise,
    read_message,
    scam_kind,
    scam_signal,
    search_data,
)
from bot.content.search_eval import load_rows, measure

DATA = Path(__file__).parent.parent / "data"


def _rows(name: str) -> list[dict[str, object]]:
    return load_rows(DATA / name)


@pytest.fixture(scope="module")
def index() -> GuideIndex:
    return GuideIndex.build(load_guides())


def _figures(index: GuideIndex, name: str, part: slice = slice(None)) -> dict[str, float]:
    # The written sets predate the guides that split old ones: their successors count too.
    figures = measure(index, _rows(name)[part], successors=not name.startswith("real"))
    return figures.summary()


# Bars on real residents' questions (issue #15). The tuning half may be tuned on; the
# hold-out half never is: its figures are recorded, and asserted where the bars hold.
REAL_BARS = {"top1": 0.92, "top3": 0.99, "refused": 0.90, "hit_confident": 0.85}


def test_real_questions_tuning_half(index: GuideIndex) -> None:
    figures = _figures(index, "real_questions_tune.jsonl")
    assert figures["top1"] >= TUNE_FLOOR["top1"], figures
    assert figures["top3"] >= TUNE_FLOOR["top3"], figures
    assert figures["refused"] >= TUNE_FLOOR["refused"], figures
    assert figures["hit_confident"] >= TUNE_FLOOR["hit_confident"], figures
    # "Confident" means right at least 95 % of the time, and at most 1 confident wrong in 50.
    assert figures["precision"] >= 0.93, figures
    assert figures["confident_wrong"] <= figures["questions"] / 50, figures


def test_real_questions_second_tuning_set(index: GuideIndex) -> None:
    # 94 more real questions (2026-12-03, pass 4), labelled before any search run.
    figures = _figures(index, "real_questions_tune2.jsonl")
    for name, floor in TUNE2_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["precision"] >= 0.95, figures
    assert figures["confident_wrong"] <= figures["questions"] / 50, figures


def test_real_questions_second_hold_out(index: GuideIndex) -> None:
    # 31 real questions from pages of their own (pass 4), never tuned on: figures recorded.
    figures = _figures(index, "real_questions_holdout2.jsonl")
    for name, floor in HOLDOUT2_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["confident_wrong"] <= HOLDOUT2_MAX_WRONG, figures


def test_real_questions_third_tuning_set(index: GuideIndex) -> None:
    # Real questions of pass 5 (2026-12-04), labelled before any search run; may be tuned on.
    figures = _figures(index, "real_questions_tune3.jsonl")
    for name, floor in TUNE3_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["confident_wrong"] <= TUNE3_MAX_WRONG, figures


def test_real_questions_third_hold_out(index: GuideIndex) -> None:
    # Real questions of pass 5 from pages of their own, never tuned on: figures recorded.
    figures = _figures(index, "real_questions_holdout3.jsonl")
    for name, floor in HOLDOUT3_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["confident_wrong"] <= HOLDOUT3_MAX_WRONG, figures


def test_real_questions_fourth_tuning_set(index: GuideIndex) -> None:
    # Real questions of pass 8 (2026-12-07), labelled before any search run; may be tuned on.
    figures = _figures(index, "real_questions_tune4.jsonl")
    for name, floor in TUNE4_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["confident_wrong"] <= TUNE4_MAX_WRONG, figures


def test_real_questions_fourth_hold_out(index: GuideIndex) -> None:
    # Real questions of pass 8 from pages of their own, never tuned on: figures recorded.
    figures = _figures(index, "real_questions_holdout4.jsonl")
    for name, floor in HOLDOUT4_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["confident_wrong"] <= HOLDOUT4_MAX_WRONG, figures


PASS5_FIELDS = {
    "q",
    "slug",
    "alt_slugs",
    "office",
    "source_url",
    "source_kind",
    "date",
    "topic",
    "notes",
}


@pytest.mark.parametrize("suffix", ["3", "4"])
def test_pass5_question_sets_are_well_formed(suffix: str) -> None:
    # Same schema as the earlier real sets; labels name guides of the library; a page
    # supplies either the tuning half or the hold-out, and no question repeats any set's
    # (pass 5: tune3/holdout3; pass 8: tune4/holdout4, checked against every set).
    slugs = {guide.slug for guide in load_guides()}
    tune = _rows(f"real_questions_tune{suffix}.jsonl")
    hold = _rows(f"real_questions_holdout{suffix}.jsonl")
    for row in tune + hold:
        assert set(row) == PASS5_FIELDS, row
        assert str(row["q"]).strip() and str(row["source_url"]).startswith("http"), row
        labels = ([row["slug"]] if row["slug"] else []) + list(row["alt_slugs"])  # type: ignore[arg-type]
        assert set(labels) <= slugs, row
    assert not {r["source_url"] for r in tune} & {r["source_url"] for r in hold}
    new = [" ".join(normalise(str(r["q"]))) for r in tune + hold]
    assert len(new) == len(set(new))
    others = {
        " ".join(normalise(str(r["q"])))
        for path in sorted(DATA.glob("*.jsonl"))
        if path.name.startswith(("real_questions_", "faq_")) and not path.stem.endswith(suffix)
        for r in load_rows(path)
    }
    assert not set(new) & others


def test_real_questions_hold_out(index: GuideIndex) -> None:
    # Never tuned on. Asserts what holds today (HOLDOUT_FLOOR) so it cannot silently get
    # worse; BENCHMARKS.md reports these figures against the bars.
    figures = _figures(index, "real_questions_holdout.jsonl")
    for name, floor in HOLDOUT_FLOOR.items():
        assert figures[name] >= floor, (name, figures)
    assert figures["confident_wrong"] <= HOLDOUT_MAX_WRONG, figures


# What the current library and method reach (see BENCHMARKS.md); raise towards REAL_BARS.
# The tuning half grew from 103 to 243 questions (2026-12): its floors are the new figures.
# Pass 4 (2026-12-03) refitted the confidence model with 90 more real tuning questions:
# more right answers are confident, and two of the 37 out-of-scope ones are too.
# Pass 8 (2026-12-07) refitted the model on real tune 1-4: more right answers confident.
TUNE_FLOOR = {"top1": 0.98, "top3": 0.99, "refused": 0.99, "hit_confident": 0.83}
TUNE2_FLOOR = {
    "top1": 0.95,
    "top3": 0.97,
    "refused": 0.99,
    "hit_confident": 0.79,
}  # pass 8
HOLDOUT_FLOOR = {"top1": 0.87, "top3": 0.97, "refused": 0.99, "hit_confident": 0.77}
HOLDOUT2_FLOOR = {"top1": 0.92, "top3": 0.99, "refused": 0.99, "hit_confident": 0.79}
HOLDOUT2_MAX_WRONG = 1  # 0 before the pass 8 refit (which made 62.5 → 79.2 % confident)
# Pass 5 baseline (2026-12-04, before any tuning on these sets; BENCHMARKS.md); pass 6
# (2026-12-05) tuned on tune 3 only.
TUNE3_FLOOR = {
    "top1": 0.94,
    "top3": 0.98,
    "refused": 0.99,
    "hit_confident": 0.83,
}  # pass 8
TUNE3_MAX_WRONG = 1
HOLDOUT3_FLOOR = {"top1": 0.66, "top3": 0.85, "refused": 0.99, "hit_confident": 0.85}
HOLDOUT3_MAX_WRONG = 4
# Pass 8 (2026-12-07): 68 more real questions, labelled before any search run; tune 4 was
# tuned on, hold-out 4 never (baseline 70.6 % top-1, 5/22 confident wrong; BENCHMARKS.md).
TUNE4_FLOOR = {"top1": 0.91, "top3": 0.97, "refused": 0.99, "hit_confident": 0.84}
TUNE4_MAX_WRONG = 0
HOLDOUT4_FLOOR = {"top1": 0.82, "top3": 0.94, "refused": 0.79, "hit_confident": 0.78}
HOLDOUT4_MAX_WRONG = 3
# 3 when 15 % of right answers were confident, 4 with 34 % and still 4 with 59 %, 3 with
# 58 % (pass 4; BENCHMARKS.md), 1 with 77 % (pass 8); the bar is 1 in 50.
HOLDOUT_MAX_WRONG = 1


def test_dev_set_does_not_regress(index: GuideIndex) -> None:
    figures = _figures(index, "faq_dev.jsonl")
    assert figures["top1"] >= 0.95, figures
    assert figures["top3"] >= 0.99, figures
    assert figures["refused"] >= 0.90, figures
    assert figures["hit_confident"] >= 0.6, figures


def test_extra_questions_written_apart_from_the_guides(index: GuideIndex) -> None:
    figures = _figures(index, "faq_extra.jsonl")
    assert figures["top1"] >= 0.93, figures
    assert figures["top3"] >= 0.97, figures
    assert figures["refused"] >= 0.85, figures
    assert figures["hit_confident"] >= 0.6, figures


def test_written_holdout_halves(index: GuideIndex) -> None:
    # Half A was tuned on, half B never was. Their out-of-scope labels predate guides
    # that now exist ("đổi căn cước hết hạn", "đăng ký kết hôn cần những gì"), so the
    # refusal bar is looser than on the real set.
    for half, top1 in ((slice(0, None, 2), 0.94), (slice(1, None, 2), 0.92)):
        figures = _figures(index, "faq_holdout.jsonl", half)
        assert figures["top1"] >= top1, figures
        assert figures["top3"] >= 0.97, figures
        assert figures["refused"] >= 0.80, figures
        assert figures["hit_confident"] >= 0.5, figures


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("cach kich hoat vneid muc 2", "vneid-kich-hoat"),
        ("kick hoat vnid", "vneid-kich-hoat"),
        ("KÍCH HOẠT TÀI KHOẢN ĐỊNH DANH", "vneid-kich-hoat"),
        ("lltp", "ly-lich-tu-phap"),
        ("sskđt", "so-suc-khoe-dien-tu"),
        ("đkx vào vneid", "vneid-tich-hop-giay-to"),
        ("đổi gplx", "giay-phep-lai-xe"),
        ("cks bao nhieu tien", "chu-ky-so-dang-ky"),
        ("dvc nop ho so", "dvc-nop-ho-so"),
        ("bao mat tk zalo", "bao-mat-tai-khoan"),
        # A neighbour confirms the correction: "hot" → "hoạt" next to "kích", not "hợp".
        ("kich hot vneid muc 2", "vneid-kich-hoat"),
        ("sinh trắc học ngân hàg", "sinh-trac-hoc-ngan-hang"),
        # Teencode and the old tone-mark placement ("khoẻ").
        ("e quen mk vnid r lay lai ntn", "vneid-quen-mat-khau"),
        ("SỔ SỨC KHOẺ ĐT xem ở đâu z", "so-suc-khoe-dien-tu"),
        ("chuyen tien tren 10tr bi bat quet khuon mat", "sinh-trac-hoc-ngan-hang"),
        ("tra tien dien bang zalopay", "hoa-don-truc-tuyen"),
    ],
)
def test_abbreviations_typos_and_case(index: GuideIndex, query: str, slug: str) -> None:
    assert index.search(query).best == slug


def test_teencode_and_fillers_are_normalised() -> None:
    assert normalise("ko dc j") == ["khong", "duoc", "gi"]
    # "như thế nào" must not leave "thế" (folded like "thẻ", a card) behind.
    assert "the" not in normalise("kich hoat nhu the nao")
    assert "the" not in normalise("cai vneid ntn")
    assert normalise("10tr") == ["10", "trieu"]


def test_a_real_word_is_not_corrected_into_a_topic(index: GuideIndex) -> None:
    # "tiếng" is a word of its own, not a typo of "tiền"; "dịch" alone is not "dịch vụ".
    result = index.search("dịch tiếng anh giúp tôi")
    assert not result.confident
    assert "tien" not in index._parse("dich tieng anh").weights


def test_results_are_sorted_scores_in_unit_interval(index: GuideIndex) -> None:
    result = index.search("chu ky so", top=5)
    scores = [score for _, score in result.results]
    assert len(result.results) <= 5
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert result.as_dict()["confident"] == result.confident


@pytest.mark.parametrize(
    "text",
    [
        "xin chào",
        "Chào bạn!",
        "hello",
        "hi bot",
        "alo",
        "cảm ơn",
        "cam on ban nhieu",
        "Ok",
        "bot ơi bạn khỏe ko",
        "bạn tên gì",
        "ăn cơm chưa",
    ],
)
def test_greetings(index: GuideIndex, text: str) -> None:
    assert is_greeting(text)
    assert not index.search(text).confident


@pytest.mark.parametrize(
    "text",
    [
        "chào bạn, cách kích hoạt vneid?",
        "cảm ơn, còn chữ ký số thì sao",
        "hoc ai",
        "bạn ơi sổ sức khỏe",
    ],
)
def test_questions_with_a_greeting_are_not_greetings(index: GuideIndex, text: str) -> None:
    assert not is_greeting(text)
    assert index.search(text).results


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Có người xưng công an gọi bảo cập nhật VNeID", "lua-dao-gia-danh"),
        ("can bo goi dien bao dong bo can cuoc", "lua-dao-gia-danh"),
        ("họ bảo làm mức 2 qua điện thoại", "lua-dao-gia-danh"),
        ("nguoi la yeu cau chuyen tien", "lua-dao-gia-danh"),
        ("có nên đọc mã OTP cho nhân viên ngân hàng", "lua-dao-link-otp"),
        ("tin nhan co link la", "lua-dao-link-otp"),
        ("tải vneid qua link zalo được không", "lua-dao-link-otp"),
        ("lỡ đưa otp rồi bị mất tiền", "bi-lua-dao"),
        ("nhân viên ngân hàng gọi xin mã otp", "lua-dao-link-otp"),
        ("chuyển phí để nhận quà trúng thưởng", "lua-dao-link-otp"),
    ],
)
def test_scam_signals_put_the_warning_first(index: GuideIndex, text: str, slug: str) -> None:
    assert scam_signal(text)
    assert scam_kind(text) == slug
    result = index.search(text)
    assert result.best == slug
    assert result.confident and result.scam


@pytest.mark.parametrize(
    "text",
    [
        "chuyển khoản bằng mã QR",
        "sinh trắc học khi chuyển tiền trên 10 triệu",
        "không nhận được mã OTP kích hoạt VNeID",
        "làm sao để không bị hack facebook",
        "mật khẩu an toàn",
        # Cost questions and OTP trouble are not warnings.
        "làm định danh mức 2 có mất tiền không",
        "chuyen khoan qua ma qr co mat phi khong",
        "kich hoat vneid bi bao sai otp",
        # One's own power cut, a mistyped account number, one's own QR code.
        "nhà tôi bị cắt điện vì chưa đóng tiền điện, đóng online ở đâu",
        "lỡ chuyển khoản nhầm số tài khoản, làm sao lấy lại tiền",
        "cách tạo mã QR nhận tiền cho quán",
        "giá điện của điện lực tháng này tăng",
        "quét mã QR thanh toán giá bao nhiêu",
    ],
)
def test_ordinary_questions_are_not_scam_signals(text: str) -> None:
    assert not scam_signal(text)


def test_nonsense_gets_nothing(index: GuideIndex) -> None:
    for text in ["", "   ", "😀😀", "asdkjh qwe zzz", "?!"]:
        result = index.search(text)
        assert not result.confident


def test_lookup_by_slug_title_or_deep_link(index: GuideIndex) -> None:
    assert index.lookup("vssid") == "vssid"
    assert index.lookup("/start g_vneid-muc-2") == "vneid-muc-2"
    title = next(g.title for g in load_guides() if g.slug == "vneid-muc-2")
    assert index.lookup(title.upper()) == "vneid-muc-2"
    assert index.lookup("không phải tên hướng dẫn") is None


def test_normalise_expands_abbreviations() -> None:
    assert normalise("CKS, GPLX & vnid!") == [
        "chu",
        "ky",
        "so",
        "giay",
        "phep",
        "lai",
        "xe",
        "vneid",
    ]


APPROVAL_SMS = (
    "Cuc Canh sat QLHC ve TTXH thong bao: Ho so dang ky tai khoan dinh danh dien tu cua cong"
    " dan NGUYEN VAN A da duoc phe duyet. De nghi truy cap ung dung VNeID hoac dia chi"
    " https://vneid.gov.vn de kich hoat tai khoan."
)


def test_the_genuine_approval_sms_is_read_as_what_does_this_mean(index: GuideIndex) -> None:
    result = index.search(APPROVAL_SMS)
    assert result.kind is Answer.GUIDE and result.reason == "official"
    assert result.best == "vneid-tin-nhan-phe-duyet"
    assert not result.scam


def test_a_look_alike_address_makes_the_same_text_a_scam(index: GuideIndex) -> None:
    fake = APPROVAL_SMS.replace("https://vneid.gov.vn", "https://vneid-gov.vn.top/kich-hoat")
    result = index.search(fake)
    assert read_message(fake).official is None
    assert result.scam and result.best in {"lua-dao-link-otp", "lua-dao-gia-danh"}


@pytest.mark.parametrize(
    "text",
    [
        "điện thoại hỏng phải đổi máy, mã OTP gửi về thiết bị cũ",
        "Người dùng thắc mắc về cách đăng nhập VNeID khi ứng dụng gửi OTP về điện thoại đã mất.",
        "mua điện thoại mới không nhận được mã otp vneid",
        "quên mật khẩu vneid lấy lại thế nào",
        "khôi phục cài đặt gốc xong vneid bắt xác thực máy cũ",
        "không nhận được mã OTP kích hoạt VNeID",
        "không đăng nhập được vneid, mã otp không về",
        "không thể đăng nhập ứng dụng ngân hàng trên máy mình",
        "quên tên đăng nhập tài khoản vssid",
        "vneid cập nhật bản mới xong thì không mở được nữa",
    ],
)
def test_own_phone_or_account_problems_never_get_a_scam_warning(
    index: GuideIndex, text: str
) -> None:
    result = index.search(text)
    assert read_message(text).own_problem
    assert not result.scam
    assert result.best not in {"lua-dao-link-otp", "lua-dao-gia-danh", "bi-lua-dao"}


@pytest.mark.parametrize(
    "text",
    [
        "đổi điện thoại xong có người lạ gọi xin mã OTP",
        "mất điện thoại, có ai nhắn tin gửi link bảo đăng nhập lại vneid",
        "đổi sim thì bị chuyển tiền mất hết",
        "không đăng nhập được vneid, có người gọi điện bảo đọc mã otp",
        "có người nhắn zalo gửi đường dẫn bảo tôi đăng nhập để nhận tiền hỗ trợ",
    ],
)
def test_own_problems_with_a_stranger_link_or_money_still_warn(
    index: GuideIndex, text: str
) -> None:
    result = index.search(text)
    assert result.scam and result.kind is Answer.GUIDE


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("con đang cấp cứu tại bệnh viện, chuyển tiền gấp để mổ", "lua-dao-nguoi-than"),
        ("mẹ tôi bấm vào đường link lạ rồi bị mất 50 triệu trong tài khoản", "bi-lua-dao"),
        ("tuyển cộng tác viên online làm nhiệm vụ like video", "lua-dao-viec-nhe"),
        (
            "xác nhận lại thông tin trên VNeID sau sáp nhập để tránh bị khóa tài khoản",
            "lua-dao-gia-danh",
        ),
        (
            "Cảnh sát giao thông Việt Nam: bạn có khoản tiền phạt chưa thanh toán, truy cập"
            " https://dichvucongg.top/vn",
            "lua-dao-phat-nguoi",  # the look-alike link's pretext has its own warning
        ),
    ],
)
def test_newer_scam_patterns(index: GuideIndex, text: str, slug: str) -> None:
    result = index.search(text)
    assert result.scam and result.best == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        # "nhờ chuyển" (asked to transfer) folds like "nhỡ chuyển" (sent by mistake).
        ("giả làm con đang du học gọi điện nhờ chuyển tiền đóng học phí", "lua-dao-nguoi-than"),
        ("nhận cuộc gọi dọa cắt điện nếu không thanh toán ngay tiền điện", "lua-dao-dien-luc"),
        ("mã khách hàng cũ sẽ bị hủy, phải cập nhật mã mới kẻo bị cắt điện", "lua-dao-dien-luc"),
        ("quán bị kẻ gian dán đè mã QR giả lên mã của mình", "chuyen-khoan-qr"),
        (
            "tài khoản Zalo giả mạo mời ứng tuyển công việc tại nhà, thu nhập cao, dễ dàng",
            "lua-dao-viec-nhe",
        ),
    ],
)
def test_scam_pretexts_seen_in_real_questions(index: GuideIndex, text: str, slug: str) -> None:
    result = index.search(text)
    assert result.scam and result.best == slug


def test_a_scam_falls_back_to_a_guide_the_library_has() -> None:
    small = GuideIndex.build([g for g in load_guides() if g.slug != "lua-dao-nguoi-than"], [])
    result = small.search("con đang cấp cứu tại bệnh viện, chuyển tiền gấp để mổ")
    assert result.best == "lua-dao-gia-danh" and result.scam


@dataclass(frozen=True)
class _Office:
    topic: str
    keywords: tuple[str, ...]
    office: str
    note: str = ""


OFFICES = [
    _Office("tieng-on", ("karaoke", "tiếng ồn"), "Công an xã, phường"),
    _Office("thue", ("thuế",), "Thuế cơ sở"),
]


def test_an_office_subject_is_answered_no_guide_with_the_office() -> None:
    index = GuideIndex.build(load_guides(), OFFICES)
    result = index.search("Hàng xóm hát karaoke ồn ào đến khuya thì báo ai?")
    assert result.kind is Answer.NONE and not result.confident
    assert result.office == OfficeHint("tieng-on", "Công an xã, phường")
    assert result.suggestions() == []
    assert result.as_dict()["office"] == {"topic": "tieng-on", "office": "Công an xã, phường"}


def test_an_office_keyword_the_best_guide_knows_keeps_the_guide() -> None:
    guides = load_guides()
    index = GuideIndex.build(guides, [_Office("vneid", ("vneid",), "Công an xã")])
    assert index.search("cách kích hoạt vneid mức 2").office is None


def test_result_kinds_and_suggestions(index: GuideIndex) -> None:
    sure = index.search("có người xưng công an gọi bảo cập nhật VNeID")
    assert sure.kind is Answer.GUIDE and sure.guide == sure.best and sure.suggestions() == []
    unsure_or_sure = index.search("quên mật khẩu vneid")
    assert unsure_or_sure.best == "vneid-quen-mat-khau"
    unsure = index.search("chuyển khoản")
    assert unsure.kind in (Answer.SUGGEST, Answer.CLOSE, Answer.GUIDE)
    if unsure.kind is Answer.CLOSE:
        assert unsure.close is not None and unsure.suggestions() == list(unsure.close)
    nothing = index.search("asdkjh qwe zzz")
    assert nothing.kind is Answer.NONE and nothing.suggestions() == []
    assert index.search("xin chào").kind is Answer.GREETING


def test_two_close_guides_are_offered_as_a_pair() -> None:
    from bot.content.search import Calibration, _close_pair

    calibration = Calibration({}, 0.0, 0.9, close_margin=0.02, close_floor=0.4)
    assert _close_pair([("a", 0.61), ("b", 0.60), ("c", 0.30)], calibration) == ("a", "b")
    assert _close_pair([("a", 0.61), ("b", 0.60), ("c", 0.59)], calibration) is None
    assert _close_pair([("a", 0.70), ("b", 0.60)], calibration) is None
    # With a ratio rule, a runner-up at 80 % of the best is close too (unless a third is).
    ratio = Calibration({}, 0.0, 0.9, close_margin=0.02, close_floor=0.4, close_ratio=0.8)
    assert _close_pair([("a", 0.70), ("b", 0.60), ("c", 0.40)], ratio) == ("a", "b")
    assert _close_pair([("a", 0.70), ("b", 0.60), ("c", 0.58)], ratio) is None
    assert _close_pair([("a", 0.70), ("b", 0.50)], ratio) is None


def test_search_data_is_read_once() -> None:
    assert search_data() is search_data()
    assert search_data().synonyms["cccd"] == "can cuoc"
    assert "vssid" in search_data().entities
    assert 0.0 < search_data().calibration.threshold < 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_search_never_crashes(text: str) -> None:
    result = _INDEX.search(text, top=3)
    assert len(result.results) <= 3
    assert all(0.0 <= score <= 1.0 for _, score in result.results)
    is_greeting(text)
    scam_signal(text)


_INDEX = GuideIndex.build(load_guides())


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("lỡ chuyển khoản nhầm số tài khoản", "chuyen-nham-tien"),
        ("4 bước cần làm ngay để lấy lại tiền sau khi chuyển nhầm tài khoản", "chuyen-nham-tien"),
        ("lấy lại tài khoản Facebook bị mạo danh thế nào", "bao-mat-tai-khoan"),
        ("cách bảo vệ tài khoản zalo khỏi bị hack", "bao-mat-tai-khoan"),
        ("làm vneid cho ông bà già", "vneid-nguoi-gia"),
        ("hồ sơ trực tuyến bị cán bộ yêu cầu bổ sung thêm giấy tờ", "dvc-bo-sung-ho-so"),
    ],
)
def test_a_mistake_a_precaution_or_old_age_is_no_scam(
    index: GuideIndex, text: str, slug: str
) -> None:
    # "lỡ chuyển nhầm" is one's own slip, "khỏi bị hack" a precaution, "già" (old) folds
    # like "giả" (fake), an officer asking for papers does the job: none is a scam report.
    result = index.search(text)
    assert not result.scam
    assert result.best == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("nhận tin nhắn bảo xe tôi bị phạt nguội, bấm link nộp phạt", "lua-dao-phat-nguoi"),
        (
            "nhận được sms ngân hàng báo tài khoản bị khóa kèm đường link",
            "lua-dao-tin-nhan-ngan-hang",
        ),
    ],
)
def test_a_scam_with_a_known_pretext_gets_that_warning(
    index: GuideIndex, text: str, slug: str
) -> None:
    # The link is the signal (general link warning); the pretext's own warning answers.
    result = index.search(text)
    assert result.scam and result.kind is Answer.GUIDE
    assert result.best == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("hộ chiếu của tôi hết hạn, làm lại có cần về quê không", "ho-chieu"),
        ("bố mẹ mất không để lại di chúc, anh em muốn làm sổ đỏ mảnh đất", "dat-dai-xa"),
        ("cần sao y giấy khai sinh ở đâu cho nhanh", "ban-sao-giay-to"),
    ],
)
def test_a_paper_named_decides_the_topic(index: GuideIndex, text: str, slug: str) -> None:
    # "hộ chiếu" outweighs "hết hạn, làm lại" (the identity card's words); "sổ đỏ" is one
    # word although "đỏ" folds to the filler "do"; "sao y" is a certified copy.
    assert index.search(text).best == slug
