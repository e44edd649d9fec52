"""Free text that looks like a report is recognised conservatively; places are read from it."""

from __future__ import annotations

import pytest

from bot.feedback.categories import DEFAULT_CATEGORIES
from bot.feedback.intent import category_named, detect, is_question, says_only_report
from bot.feedback.places import Point, guess_village, map_link, parse_point

CATEGORIES = [(index, d.keywords) for index, d in enumerate(DEFAULT_CATEGORIES, 1)]
CODE = {index: d.code for index, d in enumerate(DEFAULT_CATEGORIES, 1)}
VILLAGES = [(1, "Xóm 1"), (2, "Xóm 2"), (3, "Xóm 3"), (12, "Xóm 12"), (20, "Thôn Đồng Tâm")]


def code_of(text: str) -> str | None:
    found = detect(text, CATEGORIES)
    assert found is not None, text
    return CODE.get(found.category_id) if found.category_id is not None else None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("đường xóm 3 bị ngập", "ngap"),
        ("duong xom 3 bi ngap", "ngap"),
        ("đèn đường hỏng", "dien"),
        ("Đèn đường trước nhà văn hóa xóm 2 bị hỏng mấy hôm nay", "dien"),
        ("báo tin lừa đảo", "an_ninh"),
        ("mất điện từ sáng đến giờ", "dien"),
        ("rác thải bốc mùi ở đầu ngõ", "rac"),
        ("cây đổ chắn ngang đường liên xóm", "khan_cap"),
        ("đường bê tông có ổ gà to", "duong"),
        ("vỡ ống nước chảy lênh láng", "nuoc"),
        ("Tôi muốn phản ánh về việc này", None),
    ],
)
def test_reports_are_recognised_with_their_category(text: str, code: str | None) -> None:
    assert code_of(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "làm sao báo lừa đảo",
        "bị lừa đảo thì phải làm gì",
        "cách kích hoạt vneid mức 2",
        "vneid 45 cks 12",
        "đường đến trạm y tế ở đâu",
        "mất điện có được hoàn tiền không",
        "điện thoại của tôi",  # a subject without a problem
        "dien thoai hong, doi may moi vneid khong dang nhap duoc",  # own phone: a guide
        "điện thoại bị mất",  # "điện thoại" is not "điện"
        "mã OTP không về điện thoại",
        "lừa đảo",  # a topic the scam guides answer
        "Lua dao!",
        "cho hỏi thủ tục khai sinh",
        "xin chào",
        "",
    ],
)
def test_questions_and_other_text_are_left_to_the_guides(text: str) -> None:
    assert detect(text, CATEGORIES) is None


class Loader:
    """The categories given on demand, counting the loads (a database query in the bot)."""

    def __init__(self) -> None:
        self.loads = 0

    def __call__(self) -> list[tuple[int, tuple[str, ...]]]:
        self.loads += 1
        return CATEGORIES


@pytest.mark.parametrize(
    "text",
    [
        "cách kích hoạt vneid mức 2",
        "vneid 45 cks 12",
        "điện thoại của tôi",
        "xin chào",
        "",
    ],
)
def test_text_that_cannot_be_a_report_never_loads_the_categories(text: str) -> None:
    loader = Loader()
    assert detect(text, loader) is None
    assert loader.loads == 0


@pytest.mark.parametrize(
    "text",
    [
        "đường xóm 3 bị ngập",
        "duong xom 3 bi ngap",
        "đèn đường hỏng",
        "báo tin lừa đảo",
        "cây đổ chắn ngang đường liên xóm",
        "Tôi muốn phản ánh về việc này",
        "đèn đường hỏng thì báo ai?",
        "báo ai bây giờ?",
        "mất điện có được hoàn tiền không",
    ],
)
def test_categories_given_on_demand_decide_as_the_list_does(text: str) -> None:
    loader = Loader()
    assert detect(text, loader) == detect(text, CATEGORIES)
    assert loader.loads <= 1


def test_a_question_mark_is_a_question_but_where_to_report_is_offered_a_report() -> None:
    assert is_question("đèn đường hỏng thì sửa thế nào?")
    assert detect("đèn đường hỏng thì sửa thế nào?", CATEGORIES) is None
    asked = detect("đèn đường hỏng thì báo ai?", CATEGORIES)
    assert asked is not None and asked.asked and CODE[asked.category_id or 0] == "dien"
    assert detect("mất nước phản ánh ở đâu", CATEGORIES) is not None
    assert detect("báo ai bây giờ?", CATEGORIES) is None  # about nothing the commune handles


def test_the_named_village_is_guessed_and_the_longest_name_wins() -> None:
    assert guess_village("đường xóm 3 bị ngập", VILLAGES) == 3
    assert guess_village("ngập ở xom 12", VILLAGES) == 12
    assert guess_village("cống thôn đồng tâm tắc", VILLAGES) == 20
    assert guess_village("xóm 1 và xóm 2 mất điện", VILLAGES) is None  # two villages
    assert guess_village("mất điện cả xã", VILLAGES) is None


def test_coordinates_typed_or_pasted_as_a_map_link() -> None:
    assert parse_point("21.5942, 105.8482") == Point(21.5942, 105.8482)
    assert parse_point("https://maps.google.com/?q=21.5942,105.8482") == Point(21.5942, 105.8482)
    assert parse_point("https://www.google.com/maps/@10.7626,106.6602,17z") == Point(
        10.7626, 106.6602
    )
    assert parse_point("gần cổng trường") is None
    assert parse_point("48.8566, 2.3522") is None  # not in Vietnam: more likely a typo
    assert (
        map_link(Point(21.5942, 105.8482)) == "https://www.google.com/maps?q=21.594200,105.848200"
    )
    assert Point(21.594249, 105.848251).rounded() == Point(21.594, 105.848)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("có người trộm điện thoại ở xóm 2", "an_ninh"),
        ("bị lừa đảo mất 5 triệu", "an_ninh"),
        ("cán bộ một cửa gây khó khăn khi làm căn cước", "thai_do"),
    ],
)
def test_a_real_problem_beside_a_phone_or_an_account_is_still_a_report(
    text: str, code: str
) -> None:
    assert code_of(text) == code


@pytest.mark.parametrize(
    ("text", "only"),
    [
        ("phản ánh", True),
        ("phan anh", True),
        ("Tôi muốn gửi kiến nghị ạ", True),
        ("Tôi muốn phản ánh về việc này", True),
        ("phản ánh đường xóm 3 bị ngập", False),
        ("đường xóm 3 bị ngập", False),
    ],
)
def test_a_message_that_only_asks_to_report_is_told_apart(text: str, only: bool) -> None:
    assert says_only_report(text) is only


def test_a_typed_answer_names_a_category_by_its_keywords() -> None:
    assert category_named("lua dao", CATEGORIES) == (6, False)
    assert category_named("đèn đường hỏng ở xóm 2", CATEGORIES) == (2, True)
    assert category_named("điện thoại", CATEGORIES) is None
    assert category_named("xin chào", CATEGORIES) is None
