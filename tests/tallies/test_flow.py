"""Reporting and progress through the conversation core (console channel)."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from db.models import AuditEntry, Person, Tally
from tests.factories import add_person, record_figure, village_id
from tests.helpers import Chat, FakeClock

MARCH = dt.date(2026, 3, 1)
FEB = dt.date(2026, 2, 1)


def _tallies(services: Services, village: str = "Xóm 3") -> dict[tuple[dt.date, str], int]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(Tally).where(Tally.village_id == village_id(services, village))
        ).all()
        return {(r.period, r.code): r.value for r in rows}


def _team(services: Services, chat_id: str = "2001", village: str = "Xóm 3") -> Chat:
    add_person(services, name="Lê Văn Ba", roles=("team",), village=village, chat_id=chat_id)
    return Chat(Dispatcher(services), chat_id=chat_id)


def test_invite_join_guided_and_one_line_report(services: Services) -> None:
    add_person(services, name="Quản trị", roles=("admin",), chat_id="9001")
    admin = Chat(Dispatcher(services), chat_id="9001")
    assert "Mã mời dành cho ai?" in admin.say("/moi")
    admin.press("inv:role:team")
    made = admin.press("inv:vil:team:" + str(village_id(services, "Xóm 3")))[0].text
    code = re.search(r"/lienket (\w{8})", made)
    assert code is not None and f"start=j_{code.group(1)}" in made

    member = Chat(Dispatcher(services), chat_id="3001", name="Lê Văn Ba")
    welcome = member.say(f"/start j_{code.group(1)}")
    assert "Liên kết thành công! Bạn là thành viên Tổ CNS cộng đồng của Xóm 3." in welcome
    assert "Báo cáo số liệu" in welcome  # the menu now offers reporting

    picker = member.send("/baocao")[0]
    assert picker.text == "Xóm 3, tháng 3/2026. Chọn mục cần báo cáo:"
    assert picker.choices[0].value == "rep:code:vneid"
    assert "Gõ tổng số người ở Xóm 3 đã có: VNeID mức 2" in member.say("1")
    summary = member.send("120")[0]
    assert "• VNeID mức 2: 120" in summary.text
    assert [c.label for c in summary.choices] == ["✅ Xác nhận", "✏️ Sửa / thêm mục", "❌ Hủy"]
    member.press("rep:more")
    member.press("rep:code:cks")
    member.say("33")
    done = member.say("Xác nhận")
    assert "✅ Đã ghi cho Xóm 3, tháng 3/2026:\n• VNeID mức 2: 120\n• Chữ ký số: 33" in done
    assert "Tháng này còn thiếu: Sổ sức khỏe điện tử, Tài khoản ngân hàng" in done

    one_line = member.say("bc sổ sức khỏe 40, tknh: 1.200? ")
    assert "Đã ghi" not in one_line  # a question mark: not taken as a report
    answer = member.say("ssk 40 tknh 100 dvc 15 kns 200 ttktm 3")
    assert (
        "• Sổ sức khỏe điện tử: 40" in answer and "Đã đủ số liệu tháng này. Cảm ơn bạn!" in answer
    )
    assert _tallies(services)[(MARCH, "tknh")] == 100


def test_each_validation_error_is_explained_in_vietnamese(services: Services) -> None:
    member = _team(services)
    cases = {
        "vneid 45 xyz 5": "Mình chưa hiểu “xyz”",
        "vneid -3": "không được là số âm",
        "vneid 4,5": "phải là số nguyên",
        "cks 10 cks 11": "có hai số khác nhau",
        "bc vneid": "chưa có số",
        "vneid 20000000": "quá lớn",
        "cks 500": "Chữ ký số: 500 lớn hơn số người từ 18 tuổi của Xóm 3 (405)",
        "tháng 1 vneid 10": "Tháng 1/2026 đã khóa sổ",
        "tháng 4/2026 vneid 10": "Tháng 4/2026 chưa bắt đầu",
        "tháng 4 vneid 10": "Tháng 4/2025 đã khóa sổ",
        "Xóm 5 vneid 10": "Bạn chỉ báo cáo được cho thôn/xóm của mình (Xóm 3)",
    }
    for text, expected in cases.items():
        reply = member.say(text)
        assert expected in reply, (text, reply)
    assert _tallies(services) == {}
    assert "Đã ghi cho Xóm 3" in member.say("Xóm 3: vneid 10")  # naming one's own village is fine


def test_confirmed_drop_is_flagged_and_audited(services: Services) -> None:
    record_figure(services, FEB, "vneid", 200)
    member = _team(services)
    ask = member.send("vneid 150")[0]
    assert "VNeID mức 2: 150 thấp hơn tháng trước (200)" in ask.text
    assert [c.value for c in ask.choices] == ["rep:force", "rep:more", "rep:cancel"]
    assert _tallies(services) == {(FEB, "vneid"): 200}
    assert "✅ Đã ghi cho Xóm 3" in member.say("1")
    with Session(services.engine) as session:
        row = session.exec(select(Tally).where(Tally.period == MARCH)).one()
        assert row.value == 150 and row.flagged
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.entity == "tally")).all()
        reporter = session.get(Person, entry.actor_id)
        assert reporter is not None and reporter.display_name == "Lê Văn Ba"
        assert entry.old == {"value": 200} and entry.new is not None and entry.new["value"] == 150
        assert entry.reason == "drop confirmed by the reporter"


def test_jump_asks_and_cancel_records_nothing(services: Services) -> None:
    record_figure(services, FEB, "kns", 10)
    member = _team(services)
    assert "nhiều hơn hẳn mức thường thấy" in member.say("kns 500")
    assert "Đã hủy" in member.say("3")
    assert (MARCH, "kns") not in _tallies(services)


def test_resident_cannot_report(services: Services, chat: Chat) -> None:
    assert "dành cho thành viên Tổ công nghệ số" in chat.say("/baocao")
    chat.say("vneid 45")
    with Session(services.engine) as session:
        assert session.exec(select(Tally)).all() == []


def test_team_member_without_village_is_told(services: Services) -> None:
    add_person(services, roles=("team",), chat_id="2100")
    lost = Chat(Dispatcher(services), chat_id="2100")
    assert "chưa được gắn với thôn/xóm" in lost.say("vneid 45")


def test_replayed_update_does_not_count_twice(services: Services) -> None:
    member = _team(services)
    member.send("vneid 45", key="tg:1")
    member.send("vneid 50", key="tg:2")
    assert member.send("vneid 45", key="tg:1") == []  # redelivered: ignored
    assert _tallies(services) == {(MARCH, "vneid"): 50}
    with Session(services.engine) as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.entity == "tally")).all()) == 1


def test_restart_mid_flow_resumes(services: Services) -> None:
    member = _team(services)
    member.send("/baocao")
    member.press("rep:code:ssk")
    restarted = Chat(Dispatcher(services), chat_id=member.chat_id)
    assert "Sổ sức khỏe điện tử: 77" in restarted.say("77")
    assert "Đã ghi" in Chat(Dispatcher(services), chat_id=member.chat_id).say("1")
    assert _tallies(services) == {(MARCH, "ssk"): 77}


def test_last_month_open_until_the_fifth(services: Services, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC))
    member = _team(services)
    ask = member.send("/baocao")[0]
    assert [c.value for c in ask.choices] == ["rep:period:2026-03-01", "rep:period:2026-02-01"]
    member.press("rep:period:2026-02-01")
    member.press("rep:code:vneid")
    member.say("30")
    assert "tháng 2/2026" in member.say("1")
    assert "Đã ghi cho Xóm 3, tháng 2/2026" in member.say("tháng 2 cks 9")
    clock.set(dt.datetime(2026, 3, 6, 2, 0, tzinfo=dt.UTC))
    assert "đã khóa sổ" in member.say("tháng 2 cks 10")
    assert _tallies(services) == {(FEB, "vneid"): 30, (FEB, "cks"): 9}


def test_team_member_question_goes_to_the_guides(services: Services) -> None:
    member = _team(services)
    reply = member.say("làm sao kích hoạt vneid mức 2")
    assert "Đã ghi" not in reply and _tallies(services) == {}


def test_progress_for_team_member_and_officer(services: Services) -> None:
    record_figure(services, FEB, "vneid", 100, "Xóm 1")
    member = _team(services)
    member.say("vneid 54 cks 40")
    [mine] = member.send("/tiendo")
    assert mine.text.startswith("📊 Tiến độ của Xóm 3, tháng 3/2026:")
    assert "• VNeID mức 2: 54/540 (10%)" in mine.text
    # The chart is drawn after the transaction (Dispatcher.handle_async); here, its data.
    assert mine.chart is not None and mine.image_name == "tiendo.png"
    assert mine.chart.title.endswith(": tỷ lệ theo thôn/xóm, tháng 3/2026")
    [highlighted] = [bar for bar in mine.chart.bars if bar.highlight]
    assert highlighted.label == "Xóm 3" and highlighted.rate
    assert len(mine.chart.bars) == 12
    add_person(
        services, name="Cán bộ", roles=("office",), unit="Phòng Văn hóa - Xã hội", chat_id="5001"
    )
    officer = Chat(Dispatcher(services), chat_id="5001")
    [whole] = officer.send("/tiendo cks")
    assert "Tiến độ của Xã Trung Hội (dữ liệu mẫu)" in whole.text
    assert "• VNeID mức 2: 154/11.503" in whole.text
    assert "Đã báo cáo tháng này: 1/12 thôn/xóm." in whole.text
    assert "Chưa báo cáo: Xóm 1, Xóm 2, Xóm 4" in whole.text
    assert "Biểu đồ: Chữ ký số" in whole.text
    assert whole.chart is not None and not any(bar.highlight for bar in whole.chart.bars)
    assert whole.chart.title.startswith("Chữ ký số: ")


def test_join_rate_limit_in_chat(services: Services) -> None:
    add_person(services, name="Quản trị", roles=("admin",), chat_id="9001")
    admin = Chat(Dispatcher(services), chat_id="9001")
    admin.press("inv:role:office")
    code = re.search(r"/lienket (\w{8})", admin.history[-1].text)
    assert code is not None
    guesser = Chat(Dispatcher(services), chat_id="6001")
    for _ in range(5):
        assert "Mã mời này không đúng" in guesser.say("/lienket AAAAAAAA")
    assert "quá nhiều lần" in guesser.say(f"/lienket {code.group(1)}")
    other = Chat(Dispatcher(services), chat_id="6002")
    assert "Ask" not in other.say("/lienket")  # asks for the code
    assert "cơ quan thường trực" in other.say(code.group(1))
    assert "đã được dùng rồi" in Chat(Dispatcher(services), chat_id="6003").say(
        f"/lienket {code.group(1)}"
    )


def test_resident_picks_their_village(services: Services, chat: Chat) -> None:
    assert "Bạn sống ở thôn/xóm nào?" in chat.say("/thon")
    assert "sống ở Xóm 2" in chat.say("2")
    with Session(services.engine) as session:
        person = session.exec(select(Person).where(Person.display_name == chat.name)).one()
        assert person.village_id == village_id(services, "Xóm 2")


def test_non_admin_cannot_invite(services: Services, chat: Chat) -> None:
    assert "dành cho thành viên" in chat.say("/moi")
    assert "Chỉ cán bộ quản trị" in chat.press("inv:role:admin")[0].text
