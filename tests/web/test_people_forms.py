"""People and invites on the web: add, change, deactivate (sessions end), print codes."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from bot.admin.invites import hash_code
from bot.core.dispatcher import Dispatcher
from bot.core.people import default_commune_id, identify, roles_of
from bot.i18n import translator
from bot.reminders import broadcasts
from bot.services import Services
from bot.web.render import linked_chats
from db.models import AuditEntry, ChatIdentity, InviteCode, Person, WebSession
from tests.factories import unit_id, village_id
from tests.helpers import Chat, add_person
from tests.web.conftest import OWN_UNIT, Seeded, SignIn, post_form

CODE = re.compile(r'<p class="invite-code">([A-Z0-9]+)</p>')


def _actions(services: Services) -> list[str]:
    with Session(services.engine) as session:
        return [
            e.action for e in session.exec(select(AuditEntry)) if e.action.startswith("person.")
        ]


async def test_an_admin_adds_a_member_and_prints_the_village_sheet(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    admin = add_person(services, name="Quản Trị Xã", roles=("admin",))
    client = await sign_in(admin)
    xom3 = village_id(services, "Xóm 3")
    response = await post_form(
        client,
        "/people",
        "/people",
        {"name": "Nguyễn Văn Mới", "roles": "team", "village": str(xom3)},
    )
    assert response.status == 303
    with Session(services.engine) as session:
        added = session.exec(select(Person).where(Person.display_name == "Nguyễn Văn Mới")).one()
        assert added.id is not None and roles_of(session, added.id) == {"team"}
        assert added.village_id == xom3
    listing = await (await client.get(response.headers["Location"])).text()
    assert "Nguyễn Văn Mới" in listing and "Đã thêm" in listing
    sheet = await post_form(
        client, "/people", "/people/invites", {"village": str(xom3), "spare": "2"}
    )
    html = await sheet.text()
    assert sheet.status == 200
    codes = CODE.findall(html)
    assert len(codes) == 3  # the new member (no chat yet) and two spares
    assert "Nguyễn Văn Mới" in html and "/lienket " + codes[0] in html
    assert html.count('src="data:image/svg+xml;base64,') == 3
    assert f"https://t.me/{services.settings.telegram_bot_username}?start=j_{codes[0]}" in html
    with Session(services.engine) as session:
        stored = {i.code_hash: i for i in session.exec(select(InviteCode))}
    assert stored[hash_code(codes[0])].person_id == added.id
    assert all(stored[hash_code(c)].village_id == xom3 for c in codes)
    assert _actions(services) == ["person.add"]


async def test_roles_need_their_village_or_unit(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    admin = add_person(services, name="Quản Trị Xã", roles=("admin",))
    client = await sign_in(admin)
    response = await post_form(
        client, "/people", "/people", {"name": "Lê Văn Thiếu", "roles": "team"}
    )
    html = await response.text()
    assert (
        response.status == 400 and "phải thuộc một thôn" in html and 'value="Lê Văn Thiếu"' in html
    )
    empty = await post_form(client, "/people", "/people", {"name": "", "roles": "nope"})
    text = await empty.text()
    assert empty.status == 400 and "Vui lòng điền mục này" in text
    nobody = await post_form(client, "/people", "/people/invites", {"village": ""})
    text = await nobody.text()
    assert nobody.status == 400
    assert 'id="f-print-village" name="village" aria-invalid="true"' in text
    assert 'id="f-village" name="village" aria-invalid' not in text
    assert _actions(services) == []


async def test_changing_roles_and_deactivating_end_access_at_once(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    admin = add_person(services, name="Quản Trị Xã", roles=("admin",))
    client = await sign_in(admin)
    officer = await sign_in(seeded.officer)
    assert (await officer.get("/tasks")).status == 200
    xom3 = village_id(services, "Xóm 3")
    page = f"/people/{seeded.officer}"
    response = await post_form(client, page, page, {"roles": ["team"], "village": str(xom3)})
    assert response.status == 303
    assert (await officer.get("/tasks")).status == 403  # no longer a unit officer
    assert (await officer.get("/villages")).status == 200
    response = await post_form(client, page, f"{page}/deactivate")
    assert response.status == 303
    assert (await officer.get("/")).status == 401  # the session was revoked
    with Session(services.engine) as session:
        assert roles_of(session, seeded.officer) == {"resident"}
        sessions = session.exec(
            select(WebSession).where(WebSession.person_id == seeded.officer)
        ).all()
        assert sessions and all(s.revoked for s in sessions)
    assert _actions(services) == ["person.update", "person.deactivate"]
    audit = await (await client.get("/audit")).text()
    assert "Ngừng kích hoạt một người" in audit and "Vai trò: cán bộ đơn vị" in audit
    # An admin cannot lock themselves out.
    own = await post_form(client, f"/people/{admin}", f"/people/{admin}/deactivate")
    assert own.status == 400 and "tự ngừng kích hoạt" in await own.text()


async def test_people_forms_refuse_forgeries_and_non_admins(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    admin = add_person(services, name="Quản Trị Xã", roles=("admin",))
    client = await sign_in(admin)
    forged = await client.post(
        f"/people/{seeded.officer}/deactivate",
        data={"csrf": "x"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status == 403
    office = await sign_in(seeded.office)
    assert (await office.get("/people")).status == 403
    response = await post_form(office, "/", f"/people/{seeded.officer}/deactivate")
    assert response.status == 403
    with Session(services.engine) as session:
        assert roles_of(session, seeded.officer) == {"unit"}
    assert _actions(services) == []


async def test_an_officer_gets_a_personal_invite_code_from_the_web(
    services: Services, seeded: Seeded, sign_in: SignIn, dispatcher: Dispatcher
) -> None:
    admin = add_person(services, name="Quản Trị Xã", roles=("admin",))
    client = await sign_in(admin)
    unit = unit_id(services, OWN_UNIT)
    added = await post_form(
        client, "/people", "/people", {"name": "Cán Bộ Mới", "roles": "unit", "unit": str(unit)}
    )
    assert added.status == 303
    with Session(services.engine) as session:
        officer = session.exec(select(Person).where(Person.display_name == "Cán Bộ Mới")).one()
    page = await (await client.get(f"/people/{officer.id}")).text()
    assert "Tạo mã mời" in page
    card = await post_form(client, f"/people/{officer.id}", f"/people/{officer.id}/invite", {})
    html = await card.text()
    assert card.status == 200
    [code] = CODE.findall(html)
    assert "Cán Bộ Mới" in html and OWN_UNIT in html and "/lienket " + code in html
    with Session(services.engine) as session:
        invite = session.exec(
            select(InviteCode).where(InviteCode.code_hash == hash_code(code))
        ).one()
    assert (invite.role, invite.unit_id, invite.person_id) == ("unit", unit, officer.id)
    # The officer links their chat with it, and is the person the admin added.
    chat = Chat(dispatcher, chat_id="7701", name="Cán Bộ Mới")
    assert OWN_UNIT in chat.say(f"/lienket {code}")
    with Session(services.engine) as session:
        assert roles_of(session, officer.id) == {"unit"}
    linked = await post_form(client, f"/people/{officer.id}", f"/people/{officer.id}/invite", {})
    assert linked.status == 400 and "đã liên kết chat" in await linked.text()
    resident = add_person(services, name="Chỉ Là Dân", roles=("resident",))
    refused = await post_form(client, f"/people/{resident}", f"/people/{resident}/invite", {})
    assert refused.status == 400 and "Hãy gán vai trò" in await refused.text()


async def test_chat_channels_are_named_as_people_read_them(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    zalo = add_person(
        services, name="Vũ Thị Zalo", roles=("team",), village="Xóm 3", channel="zalo",
        chat_id="z-31",
    )  # fmt: skip
    client = await sign_in(add_person(services, name="Quản Trị Xã", roles=("admin",)))
    console = await (await client.get(f"/people/{seeded.member}")).text()
    assert "Đã liên kết chat: Trò chuyện trên màn hình" in console  # not "Console"
    assert "Đã liên kết chat: Zalo" in await (await client.get(f"/people/{zalo}")).text()
    listing = await (await client.get("/people")).text()
    assert "<td>Trò chuyện trên màn hình</td>" in listing and "Console" not in listing


async def test_a_zalo_id_seen_only_in_a_group_is_not_shown_as_a_private_chat(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    """A Zalo user id from a group message is not their private chat: invite, don't count."""
    member = add_person(services, name="Đỗ Văn Nhóm", roles=("team",), village="Xóm 3")
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        before = broadcasts.reach(session, commune, broadcasts.GROUP_TEAM)
        session.add(ChatIdentity(person_id=member, channel="zalo", chat_id="z-g1", private=False))
        session.commit()
        after = broadcasts.reach(session, commune, broadcasts.GROUP_TEAM)
        assert member not in broadcasts.preferred_channels(session, [member])
    assert after == before and after.unreachable >= 1  # still counted as not reachable
    client = await sign_in(add_person(services, name="Quản Trị Xã", roles=("admin",)))
    listing = await (await client.get("/people")).text()
    assert "<td>Chỉ trong nhóm Zalo</td>" in listing
    page = await (await client.get(f"/people/{member}")).text()
    assert "Đã liên kết chat: Chỉ trong nhóm Zalo" in page
    assert "Tạo mã mời" in page  # not reachable privately: an invite code is still offered
    sheet = await post_form(
        client, "/people", "/people/invites", {"village": str(village_id(services, "Xóm 3"))}
    )
    assert "Đỗ Văn Nhóm" in await sheet.text()  # on the village's invite sheet too
    assert linked_chats(translator("en"), [], ["zalo"]) == "Only in a Zalo group"
    assert linked_chats(translator("en"), ["telegram"], ["zalo"]) == (
        "Telegram, Only in a Zalo group"
    )
    # Once they write to the bot privately, the same id is their private Zalo chat.
    with Session(services.engine) as session:
        identify(session, "zalo", "z-g1", "Đỗ Văn Nhóm", "vi", private=True)
        session.commit()
    assert "Đã liên kết chat: Zalo<" in await (await client.get(f"/people/{member}")).text()
