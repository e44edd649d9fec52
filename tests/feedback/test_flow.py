"""The chat: residents report, officers answer, the office routes — as people type it."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Attachment, Reply
from bot.services import Services
from db.models import ConversationState, FeedbackPhoto, FeedbackReport
from tests.feedback.conftest import Cast, outbox, texts, values
from tests.feedback.photos import GPS_IFD, exif_of, jpeg_with_gps
from tests.helpers import Chat


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.numbered_text() for reply in replies)


def choice(replies: list[Reply], starts: str) -> str:
    """The value of the offered choice whose label starts with ``starts``."""
    for reply in replies:
        for offered in reply.choices:
            if offered.label.startswith(starts):
                return offered.value
    raise AssertionError(f"no choice {starts!r} in {text_of(replies)}")


def only_report(services: Services) -> FeedbackReport:
    with Session(services.engine) as session:
        [report] = session.exec(select(FeedbackReport)).all()
        return report


def photo() -> Attachment:
    data = jpeg_with_gps()
    return Attachment(
        kind="photo", file_name="photo.jpg", mime_type="image/jpeg", size=len(data), data=data
    )


def test_a_resident_reports_with_a_photo_and_hears_the_answer(
    services: Services, cast: Cast
) -> None:
    resident = cast.chat("resident")
    assert "Bạn muốn phản ánh về việc gì?" in text_of(resident.send("/phananh"))
    assert "Chuyện gì đã xảy ra?" in text_of(resident.send("1"))  # Hạ tầng – đường, cầu, cống
    where = resident.send("Ổ gà lớn giữa đường bê tông")
    assert "Ở Xóm 3 phải không?" in text_of(where)
    assert "Cụ thể ở chỗ nào?" in text_of(resident.send("1"))
    assert "Nếu có ảnh" in text_of(resident.send("gần cổng nhà văn hóa"))
    assert "Đã nhận 1 ảnh" in text_of(resident.attach(photo()))
    contact = resident.send("xong")
    assert "Cán bộ có được liên hệ với bạn" in text_of(contact)
    summary = text_of(resident.send("2"))
    assert "Loại: Hạ tầng – đường, cầu, cống" in summary
    assert "Địa điểm: gần cổng nhà văn hóa, Xóm 3" in summary
    assert "Ảnh: 1" in summary and "Tên bạn được giấu" in summary
    sent = text_of(resident.send("1"))
    assert "✅ Đã tiếp nhận phản ánh PA-0001." in sent
    assert "Phòng Kinh tế; hạn trả lời: 17:00 12/03/2026" in sent
    report = only_report(services)
    assert (report.reporter_id, report.contact_allowed, report.channel) == (
        cast.resident,
        False,
        "console",
    )
    with Session(services.engine) as session:
        [stored] = session.exec(select(FeedbackPhoto)).all()
    kept = (services.settings.data_dir / "feedback" / stored.storage_path).read_bytes()
    assert stored.metadata_removed and GPS_IFD not in exif_of(kept)

    # The unit's officer is told, opens the report (name hidden, photo shown) and answers.
    [told] = outbox(services, person_id=cast.economy)
    officer = cast.chat("economy")
    opened = officer.press(values([told])[0])
    assert "Người gửi: giấu tên" in text_of(opened) and "Nguyễn Thị Hoa" not in text_of(opened)
    assert opened[0].image is not None
    with Image.open(io.BytesIO(opened[0].image)) as shown:
        assert GPS_IFD not in shown.getexif()
    assert "Viết câu trả lời" in text_of(officer.press(choice(opened, "✍️")))
    done = text_of(officer.send("Thứ Năm đội sẽ vá ổ gà."))
    assert "Câu trả lời phản ánh PA-0001 đã được gửi đến người dân." in done
    [answer] = outbox(services, person_id=cast.resident)
    assert "Thứ Năm đội sẽ vá ổ gà." in str(answer.content["text"])

    # The resident presses 👍 in the message they received.
    thanks = resident.press(values([answer])[0])
    assert text_of(thanks) == "Cảm ơn bạn! Phản ánh PA-0001 đã đóng."
    assert only_report(services).status == "closed"


def test_free_text_is_offered_as_a_report_with_what_it_already_says(
    services: Services, cast: Cast
) -> None:
    resident = cast.chat("neighbour")
    offer = resident.send("đường xóm 3 bị ngập")
    assert "Bạn có muốn gửi nội dung này đến xã thành một phản ánh không?" in text_of(offer)
    categories = resident.send("1")
    assert categories[0].choices[0].label == "✅ Môi trường – ngập úng, thoát nước"
    where = text_of(resident.send("1"))  # the text is known: straight to the place
    assert "Ở Xóm 3 phải không?" in where  # named in the text, not the person's Xóm 5
    resident.send("1")
    resident.send("bỏ qua")
    resident.send("không có ảnh")
    resident.send("có")
    sent = text_of(resident.send("gửi"))
    assert "Đã tiếp nhận phản ánh PA-0001" in sent
    report = only_report(services)
    assert (report.text, report.contact_allowed) == ("đường xóm 3 bị ngập", True)


def test_no_sends_the_text_to_the_guides_and_guide_questions_are_not_taken(
    services: Services, cast: Cast
) -> None:
    resident = cast.chat("resident")
    assert "thành một phản ánh" in text_of(resident.send("báo tin lừa đảo"))
    answered = text_of(resident.send("2"))
    assert "OTP" in answered and "phản ánh" not in answered
    question = text_of(resident.send("làm sao báo lừa đảo"))
    assert "phản ánh" not in question and "lừa" in question.lower()
    # Figures typed by a resident: reports are the team's, and the answer says how to join.
    assert "dành cho thành viên Tổ công nghệ số" in text_of(resident.send("vneid 45"))
    asked = text_of(resident.send("đèn đường hỏng thì báo ai?"))
    assert "Bạn có thể gửi phản ánh đến xã ngay tại đây" in asked
    with Session(services.engine) as session:
        assert session.exec(select(FeedbackReport)).all() == []


def test_typed_yes_no_a_bare_phan_anh_and_a_keyword_for_the_category(
    services: Services, cast: Cast
) -> None:
    """As villagers type: "co" to the offer, "phan anh" alone, "lua dao" for the category."""
    resident = cast.chat("neighbour")
    resident.send("duong xom 3 bi ngap nuoc")
    categories = resident.send("co")  # "có", typed for the first button
    assert categories[0].choices[0].label == "✅ Môi trường – ngập úng, thoát nước"
    resident.send("/huy")
    assert "Bạn muốn phản ánh về việc gì?" in text_of(resident.send("phan anh"))
    asked = text_of(resident.send("lua dao"))  # a keyword of "An ninh trật tự"
    assert "Chuyện gì đã xảy ra?" in asked
    resident.send("/huy")
    resident.send("phản ánh")
    where = text_of(resident.send("đường xóm 3 bị ngập nước"))  # the category and the text
    assert "Ở Xóm 3 phải không?" in where
    photos = text_of(resident.send("cổng đầu ngõ"))  # the place, in Xóm 3
    assert "Nếu có ảnh" in photos
    resident.send("xong")
    summary = text_of(resident.send("1"))
    assert "Loại: Môi trường – ngập úng, thoát nước" in summary
    assert "Nội dung: đường xóm 3 bị ngập nước" in summary
    assert "Địa điểm: cổng đầu ngõ, Xóm 3" in summary
    resident.send("/huy")
    assert "thành một phản ánh" in text_of(resident.send("đèn đường hỏng"))
    assert "thành một phản ánh" not in text_of(resident.send("ko"))  # "không": to the guides


def test_own_phone_and_account_problems_and_a_bare_lua_dao_go_to_the_guides(
    services: Services, cast: Cast
) -> None:
    resident = cast.chat("resident")
    phone = text_of(resident.send("dien thoai hong, doi may moi vneid khong dang nhap duoc"))
    assert "phản ánh" not in phone and "VNeID" in phone
    scams = text_of(resident.send("lừa đảo"))
    assert "thành một phản ánh" not in scams
    with Session(services.engine) as session:
        assert session.exec(select(FeedbackReport)).all() == []


def test_a_flow_interrupted_by_a_restart_carries_on(services: Services, cast: Cast) -> None:
    resident = cast.chat("resident")
    resident.send("/phananh")
    resident.send("3")  # Hạ tầng – điện, đèn đường
    resident.dispatcher = Dispatcher(services)  # the process restarted: only the database remains
    assert "Ở Xóm 3 phải không?" in text_of(resident.send("Đèn đường tắt cả tuần"))
    resume = text_of(resident.send("/phananh"))
    assert "Bạn đang viết dở một phản ánh" in resume
    assert "Ở Xóm 3 phải không?" in text_of(resident.send("1"))  # carry on
    resident.send("2")  # somewhere else
    assert "Cụ thể ở chỗ nào?" in text_of(resident.send("Xóm 5"))
    with Session(services.engine) as session:
        state = session.exec(
            select(ConversationState).where(ConversationState.chat_id == "2001")
        ).one()
        assert (state.flow, state.step) == ("feedback", "landmark")
        assert state.data["text"] == "Đèn đường tắt cả tuần"


def test_sending_the_same_report_twice_is_one_report(services: Services, cast: Cast) -> None:
    resident = cast.chat("resident")
    for _attempt in range(2):
        resident.send("/phananh")
        if "Phản ánh của bạn" in text_of(resident.history[-1:]):
            resident.press(choice(resident.history[-1:], "➕"))
        resident.send("1")
        resident.send("Ổ gà lớn giữa đường bê tông")
        resident.send("1")
        resident.send("bỏ qua")
        resident.send("xong")
        resident.send("2")
        last = text_of(resident.send("1"))
    assert "Bạn vừa gửi nội dung này rồi: phản ánh PA-0001" in last
    assert len(outbox(services, person_id=cast.economy)) == 1


def test_residents_see_their_reports_and_add_information(services: Services, cast: Cast) -> None:
    resident = cast.chat("resident")
    resident.send("/phananh")
    for step in ("1", "Ổ gà lớn giữa đường bê tông", "1", "bỏ qua", "xong", "2", "1"):
        resident.send(step)
    mine = resident.send("/phananh")
    assert "PA-0001 · đang xử lý" in text_of(mine)
    opened = resident.press(choice(mine, "PA-0001"))
    assert "Diễn biến:" in text_of(opened) and "chuyển đến Phòng Kinh tế" in text_of(opened)
    assert "Bạn viết điều muốn bổ sung" in text_of(resident.press(choice(opened, "➕")))
    added = text_of(resident.send("Ổ gà ngày càng rộng, xe máy ngã hôm qua"))
    assert "Đã bổ sung vào phản ánh PA-0001" in added
    assert "xe máy ngã hôm qua" in texts(outbox(services, person_id=cast.economy))[-1]
    stranger = cast.chat("neighbour")
    report = only_report(services)
    assert "Không tìm thấy phản ánh này" in text_of(stranger.press(f"fb:open:{report.id}"))


def test_the_office_routes_a_report_no_unit_owns(services: Services, cast: Cast) -> None:
    resident = cast.chat("resident")
    resident.send("/phananh")
    for step in ("12", "Loa phát thanh của xóm bị rè", "1", "bỏ qua", "xong", "2", "1"):
        resident.send(step)  # 12: Khác
    office = cast.chat("office")
    queue = office.send("/phananh")
    assert "Phản ánh chờ Văn phòng thường trực: 1" in text_of(queue)
    opened = office.press(choice(queue, "PA-0001"))
    units = office.press(choice(opened, "🔀"))
    assert "Giao phản ánh PA-0001 cho đơn vị nào?" in text_of(units)
    done = text_of(office.press(choice(units, "Công an xã")))
    assert "Đã giao phản ánh PA-0001 cho Công an xã" in done
    assert texts(outbox(services, person_id=cast.police))[-1].startswith("📣 Phản ánh mới PA-0001")
    police = cast.chat("police")
    assert "PA-0001 · Khác" in text_of(police.send("/phananh"))


def test_zalo_photos_are_links_and_coordinates_can_be_typed(services: Services, cast: Cast) -> None:
    zalo = Chat(cast.dispatcher, chat_id="z-7", channel="zalo", name="Người dùng Zalo")
    assert "Bạn muốn phản ánh về việc gì?" in text_of(zalo.send("/phananh"))
    zalo.send("2")  # Hạ tầng – điện, đèn đường
    village = text_of(zalo.send("Cột điện nghiêng sát mái nhà"))
    assert "thôn, xóm nào?" in village and "Gõ số từ 1 đến" in village  # numbered, no buttons
    zalo.send("Xóm 7")
    assert "Đã nhận vị trí" in text_of(zalo.send("21.5942, 105.8482"))
    zalo.send("cạnh chợ")
    link = Attachment(kind="photo", url="https://zalo.example/img/1.jpg", file_name="photo.jpg")
    assert "Đã nhận 1 ảnh" in text_of(zalo.attach(link))
    zalo.send("xong")
    zalo.send("không")
    assert "Đã tiếp nhận phản ánh" in text_of(zalo.send("1"))
    report = only_report(services)
    assert (report.latitude, report.longitude, report.landmark) == (21.5942, 105.8482, "cạnh chợ")
    with Session(services.engine) as session:
        [stored] = session.exec(select(FeedbackPhoto)).all()
    assert (stored.kind, stored.url) == ("link", "https://zalo.example/img/1.jpg")


def test_a_report_made_at_night_reaches_the_police_at_once(
    services: Services, cast: Cast, clock: object
) -> None:
    clock.set(dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC))  # type: ignore[attr-defined]  # 23:00
    resident = cast.chat("resident")
    resident.send("/phananh")
    for step in ("6", "Có người lạ cạy cửa nhà bên cạnh", "1", "bỏ qua", "xong", "2"):
        resident.send(step)  # 6: An ninh trật tự
    sent = text_of(resident.send("1"))
    assert "113 (công an)" in sent
    [told] = outbox(services, person_id=cast.police)
    assert told.due_at == dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
