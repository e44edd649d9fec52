"""Unanswered questions are stored without names, addresses or identifiers."""

from __future__ import annotations

import pytest

from bot.content.questions import REMOVED, anonymise, scrub


@pytest.mark.parametrize(
    ("text", "stored", "removed"),
    [
        (
            "tôi là nguyễn văn an, cccd 012345678901 sđt 0912 345 678 không kích hoạt được",
            "tôi là <tên>, cccd <số> sđt <số> không kích hoạt được",
            ("name", "phone", "id_number"),
        ),
        (
            "Tôi là Trần Thị Mai ở thôn Văn Hải xã Long Thành, số nhà 12 muốn làm căn cước",
            "tôi là <tên> ở <địa chỉ> xã long thành, <địa chỉ> muốn làm căn cước",
            ("name", "address"),
        ),
        (
            "chị Quỳnh ở Hà Đông chưa tích hợp được giấy đăng ký xe 29A-123.45",
            "chị <tên> ở hà đông chưa tích hợp được giấy đăng ký xe <biển số>",
            ("name", "plate"),
        ),
        (
            "tên tôi là lê văn tám, email a.b@gmail.com, xem dichvucongg.top/vn",
            "tên tôi là <tên>, email <email> xem <link>",
            ("name", "email", "link"),
        ),
        (
            "Bà Nguyễn Thị Thắng 65 tuổi chưa biết dùng VNeID",
            "bà <tên> 65 tuổi chưa biết dùng vneid",
            ("name",),
        ),
    ],
)
def test_names_addresses_and_identifiers_are_removed(
    text: str, stored: str, removed: tuple[str, ...]
) -> None:
    result = scrub(text)
    assert result.text == stored
    assert result.removed == removed
    assert set(result.removed) <= set(REMOVED)


@pytest.mark.parametrize(
    "text",
    [
        "chị đăng ký giúp em với",
        "Đăng ký hộ kinh doanh ở đâu",
        "Lương hưu nhận qua tài khoản được không",
        "Tên đăng nhập VNeID là gì",
        "bà con hỏi cách cài vneid, em là nhân viên",
        "TP Hồ Chí Minh có làm căn cước ngày lễ không",
        "xin bản sao giấy khai sinh, buôn bán nhỏ",
    ],
)
def test_ordinary_words_are_kept(text: str) -> None:
    result = scrub(text)
    assert result.removed == ()
    assert result.text == " ".join(text.lower().split())


def test_anonymise_is_the_scrubbed_text() -> None:
    assert anonymise("Số CCCD 001234567890, mail a@b.vn") == "số cccd <số>, mail <email>"
