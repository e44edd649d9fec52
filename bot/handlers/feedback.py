"""/phananh: a resident reports a problem; the unit answers; the standing office routes and closes.

Residents: ``/phananh`` (or free text that looks like a report, after asking) walks through
category → what happened → where (village, landmark, location) → photos → may we contact
you → summary → reference code; ``/phananh`` then lists their reports, where they add
information and rate the answer. Unit officers: their unit's queue, most urgent first,
answer, internal notes, fix photos, hand back. The office: reports to route, to close or
return, reopened ones. Every step's state is in the database, so a flow interrupted by a
restart carries on where it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.flows import Flow, Step
from bot.core.messages import Choice, Incoming, Reply
from bot.core.registry import Registry, TextHandler
from bot.feedback import queues, store
from bot.feedback.choices import (
    CategoryChoice,
    Draft,
    DraftChoice,
    RateChoice,
    ReportChoice,
    UnitChoice,
    Verb,
    VillageChoice,
)
from bot.feedback.intent import category_named, detect, says_only_report
from bot.feedback.photos import StoredPhoto, link_photo, photo_dir, store_photo
from bot.feedback.places import Point, guess_village, map_link, parse_point, valid_point
from bot.feedback.policy import load_feedback_policy
from bot.feedback.status import (
    EVENT_LABELS,
    RESIDENT_LABELS,
    STATUS_LABELS,
    WITH_UNIT,
    Actor,
    Status,
)
from bot.i18n import N_
from bot.plans.evidence import MAX_BYTES, MSG_NOT_FETCHED, MSG_TOO_LARGE, read_stored
from bot.text import fold, shorten
from db.models import (
    Commune,
    FeedbackCategory,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackReport,
    Role,
    Unit,
    Village,
)

QUEUE_PAGE = 8
OWN_PAGE = 8
_DONE_WORDS = {
    "xong",
    "done",
    "bo qua",
    "skip",
    "khong",
    "khong co",
    "ko",
    "k",
    "het",
    "tiep",
    "tiep tuc",
}
_YES_WORDS = {"co", "yes", "ok", "duoc", "dong y", "gui", "co gui", "send", "u", "uh", "vang", "da"}
_NO_WORDS = {"khong", "ko", "k", "no", "khong duoc", "giau ten", "an danh"}

MSG_NO_COMMUNE = N_("tocns is not set up for a commune yet, so reports cannot be received.")
MSG_OFFER = N_("Do you want to send this to the commune as a report (phản ánh)?\n“{text}”")
MSG_OFFER_ASKED = N_(
    "You can report it to the commune right here: the unit in charge gets it and answers you. "
    "Send a report about this?\n“{text}”"
)
MSG_OFFER_YES = N_("📣 Yes, send a report")
MSG_OFFER_NO = N_("❓ No, I have a question")
MSG_NOTHING = N_("Type your question, or type /menu.")
MSG_RESUME = N_("You were writing a report and have not sent it yet. Carry on?")
MSG_RESUME_YES = N_("✍️ Carry on")
MSG_RESUME_NO = N_("🗑 Start a new one")
MSG_STALE = N_("This report was already sent or cancelled. Type /phananh to start again.")
ASK_CATEGORY = N_("What is your report about? Choose one:")
ASK_TEXT = N_(
    "What happened? Write it in a few words, for example: "
    "“đèn đường trước nhà văn hóa xóm 3 bị hỏng”."
)
ASK_VILLAGE_KNOWN = N_("Where did it happen? In {village}?")
ASK_VILLAGE = N_("Which village (thôn, xóm) did it happen in?")
ASK_LANDMARK = N_(
    "Where exactly? Write a landmark, for example “gần cổng trường” or “cạnh nhà văn hóa”."
)
ASK_LANDMARK_TELEGRAM = N_("You can also send your location 📍 (Attach → Location).")
GOT_LOCATION = N_("📍 Location received. Add a landmark in words, or choose “Skip”.")
ASK_PHOTOS = N_("Send photos if you have any (one or more). When you are done, choose “Done”.")
GOT_PHOTO = N_("📷 {count} photo(s) received. Send more, or choose “Done”.")
ASK_PHOTO_AGAIN = N_("Please send a photo, or choose “Done”.")
ASK_CONTACT = N_(
    "May the officers contact you about this report?\n"
    "If you choose “No”, the unit sees what happened and where, but not who you are. "
    "You still get the answer here."
)
SUMMARY = N_("Please check your report:")
SUMMARY_CATEGORY = N_("Kind: {category}")
SUMMARY_TEXT = N_("What happened: {text}")
SUMMARY_PLACE = N_("Where: {place}")
SUMMARY_PHOTOS = N_("Photos: {count}")
SUMMARY_CONTACT_YES = N_("The officers may contact you.")
SUMMARY_CONTACT_NO = N_("Your name is not shown to the officers.")
SENT = N_("✅ Report {code} received. Keep this code.")
SENT_UNIT = N_("It was sent to {unit}; an answer is expected by {due}.")
SENT_OFFICE = N_(
    "The standing office will send it to the unit in charge; an answer is expected by {due}."
)
SENT_AFTER = N_("You will get a message here at each step. Type /phananh to see your reports.")
SENT_URGENT = N_(
    "If anyone is in danger right now, call 113 (police), 114 (fire and rescue) or 115 (ambulance)."
)
DUPLICATE = N_(
    "You already sent this a moment ago: report {code} ({status}). Nothing new was sent."
)
UNKNOWN_PLACE = N_("not given")
NO_VILLAGE_LABEL = N_("Not in a village / I don't know")
OTHER_VILLAGE = N_("📍 Somewhere else")
HERE_VILLAGE = N_("📍 Yes, in {village}")
SKIP = N_("⏭ Skip")
DONE = N_("✅ Done")
NO_PHOTOS = N_("No photos")
CONTACT_YES = N_("Yes, you may contact me")
CONTACT_NO = N_("No, keep my name hidden")
SEND = N_("✅ Send the report")
RESTART = N_("🔄 Write it again")
CANCEL = N_("❌ Cancel")
CANCELLED = N_("Cancelled. Nothing was sent.")
NEW_REPORT = N_("➕ Send a new report")
SUGGESTED = N_("✅ {name}")

HOME_OWN = N_("Your reports:")
HOME_NONE = N_("You have not sent any report yet.")
HOME_UNIT = N_("Reports for {unit}: {count}, of which {late} late. Most urgent first:")
HOME_UNIT_NONE = N_("No report is waiting for {unit}. 👍")
HOME_OFFICE = N_(
    "Reports waiting for the standing office: {count}. With the units: {open}, of which {late} late."
)
HOME_OFFICE_NONE = N_(
    "No report is waiting for the standing office. With the units: {open}, of which {late} late."
)
LATE = N_("⚠️ late")
DUE = N_("due {due}")

VIEW_TITLE = N_("📄 Report {code} · {category}")
VIEW_STATUS = N_("Status: {status}")
VIEW_UNIT = N_("Unit: {unit}")
VIEW_NO_UNIT = N_("Unit: not chosen yet")
VIEW_DATES = N_("Received {received} · answer by {answer} · close by {close}")
VIEW_LATE = N_("⚠️ Past its deadline")
VIEW_PLACE = N_("Where: {place}")
VIEW_MAP = N_("Map: {link}")
VIEW_TEXT = N_("What happened: {text}")
VIEW_REPORTER = N_("Sent by: {name} (agreed to be contacted)")
VIEW_ANONYMOUS = N_("Sent by: name hidden (did not agree to be contacted)")
VIEW_PHOTOS = N_("Photos: {count}")
VIEW_HISTORY = N_("History:")
VIEW_URGENT = N_("🚨 Urgent category")


ACT_INFO = N_("➕ Add information")
ACT_RATE_YES = N_("👍 Satisfied")
ACT_RATE_NO = N_("👎 Not satisfied")
ACT_ANSWER = N_("✍️ Answer the resident")
ACT_NOTE = N_("🔒 Internal note")
ACT_FIX = N_("📷 Photo of the fix")
ACT_ASK = N_("❓ Ask the resident")
ACT_BACK = N_("↩️ Not our unit: hand back")
ACT_ASSIGN = N_("🔀 Choose the unit")
ACT_CLOSE = N_("✅ Close")
ACT_RETURN = N_("↩️ Send the answer back to the unit")
ACT_LIST = N_("📋 Back to the list")

ASK_INFO = N_("Write what you want to add, or send a photo.")
ASK_ANSWER = N_(
    "Write your answer to the resident. It is sent to them word for word, so say what was "
    "done or will be done, and when."
)
ASK_NOTE = N_("Write the internal note. The resident never sees it.")
ASK_FIX = N_("Send a photo of the fix.")
ASK_QUESTION = N_("Write your question to the resident.")
ASK_BACK = N_(
    "Why is it not for your unit? The standing office reads this and chooses another unit."
)
ASK_CLOSE = N_("Write a word for the resident about the closing, or choose “Skip”.")
ASK_RETURN = N_("What must the unit add or redo? The unit reads this; the resident does not.")
ASK_UNIT = N_("Which unit should handle report {code}?")
ASK_UNHAPPY = N_(
    "Why are you not satisfied? Your words go to the standing office (or choose “Skip”)."
)

DONE_INFO = N_("Added to report {code}. The officers are told.")
DONE_ANSWER = N_("Your answer to report {code} was sent to the resident.")
DONE_NOTE = N_("Note added to report {code}.")
DONE_FIX = N_("Photo of the fix added to report {code}.")
DONE_QUESTION = N_("Your question was sent to the resident of report {code}.")
DONE_BACK = N_("Report {code} was handed back to the standing office.")
DONE_CLOSE = N_("Report {code} is closed; the resident is told.")
DONE_RETURN = N_("The answer to report {code} went back to the unit.")
DONE_ASSIGN = N_("Report {code} was sent to {unit}; its officers are told.")
RATED_CLOSED = N_("Thank you! Report {code} is closed.")
RATED_REOPENED = N_(
    "Thank you for telling us. Report {code} goes back to the standing office, which will look "
    "at it again."
)
RATED_RECORDED = N_("Thank you, your rating of report {code} is kept.")
NO_UNITS = N_("This commune has no units yet.")


class FeedbackFlow(Flow, name="feedback"):
    """A resident writing a new report."""

    offer = Step()  # free text looked like a report: send it as one?
    category = Step()
    text = Step()
    village = Step()
    landmark = Step()
    photos = Step()
    contact = Step()
    confirm = Step()


class WorkFlow(Flow, name="fbwork"):
    """One thing typed about an existing report (its id is in the flow's data)."""

    info = Step()
    answer = Step()
    note = Step()
    fix = Step()
    ask = Step()
    back = Step()
    close = Step()
    send_back = Step()
    unhappy = Step()


class _Located(Protocol):
    latitude: float
    longitude: float


# ------------------------------------------------------------------ helpers


def _commune(ctx: Context) -> Commune:
    commune = ctx.session.get(Commune, ctx.person.commune_id) if ctx.person.commune_id else None
    if commune is None or commune.id is None:
        raise UserError(MSG_NO_COMMUNE)
    return commune


def _photo_dir(ctx: Context) -> Path:
    return photo_dir(ctx.services.settings.data_dir)


def _wake(ctx: Context) -> None:
    if ctx.services.wake_outbox is not None:
        ctx.after_commit.append(ctx.services.wake_outbox)


def _due(ctx: Context, moment: dt.datetime) -> str:
    return ctx.t.datetime(moment.astimezone(ctx.tz))


def _plain(text: str) -> str:
    return " ".join(fold(text).replace(".", " ").replace("!", " ").split())


def _message_point(message: Incoming) -> Point | None:
    """A location the chat app sent (``Incoming.location``, once the channels carry it)."""
    located: _Located | None = getattr(message, "location", None)
    if located is None:
        return None
    return valid_point(float(located.latitude), float(located.longitude))


def _photo_from(ctx: Context, *, keep_location: bool) -> StoredPhoto | None:
    """The photo in this message (stored and cleaned), or None if it carries none."""
    attachment = ctx.message.attachment
    if attachment is None:
        return None
    if attachment.data is not None:
        return store_photo(
            _photo_dir(ctx),
            attachment.data,
            file_name=attachment.file_name,
            mime_type=attachment.mime_type,
            declared_size=attachment.size,
            keep_location=keep_location,
        )
    if attachment.url:
        return link_photo(attachment.url)
    if attachment.size is not None and attachment.size > MAX_BYTES:
        raise UserError(
            MSG_TOO_LARGE, size=f"{attachment.size / (1024 * 1024):.1f}".replace(".", ",")
        )
    raise UserError(MSG_NOT_FETCHED)


def _place(ctx: Context, landmark: str, village: str) -> str:
    parts = [p for p in (landmark, village) if p]
    return ", ".join(parts) if parts else ctx._(UNKNOWN_PLACE)


def _report_line(ctx: Context, item: queues.QueueItem) -> str:
    report = item.report
    icon = "🚨" if report.urgent else ("🔴" if item.overdue else "🔵")
    late = f" · {ctx._(LATE)}" if item.overdue else ""
    place = item.village or "—"
    return (
        f"{icon} {report.code} · {item.category} · {place} · "
        f"{ctx._(DUE, due=_due(ctx, item.due))}{late}\n   {shorten(report.text, 80)}"
    )


def _open_choice(report: FeedbackReport, label: str) -> Choice:
    assert report.id is not None
    return Choice(label, ReportChoice(Verb.OPEN, report.id).pack())


# ------------------------------------------------------------------ home


def home(ctx: Context) -> list[Reply]:
    """What /phananh shows: the queues this person works on, their own reports, a new one."""
    commune = _commune(ctx)
    assert commune.id is not None
    lines: list[str] = []
    choices: list[Choice] = []
    staff = False
    if ctx.has_role(Role.OFFICE):
        staff = True
        waiting = queues.office_queue(ctx.session, commune.id, ctx.now)
        with_units, late = queues.open_counts(ctx.session, commune.id, ctx.now)
        if waiting:
            lines.append(ctx._(HOME_OFFICE, count=len(waiting), open=with_units, late=late))
        else:
            lines.append(ctx._(HOME_OFFICE_NONE, open=with_units, late=late))
        for item in waiting[:QUEUE_PAGE]:
            lines.append(_report_line(ctx, item))
            choices.append(
                _open_choice(item.report, f"{item.report.code} · {shorten(item.category, 28)}")
            )
    if ctx.has_role(Role.UNIT) and ctx.person.unit_id is not None:
        staff = True
        unit = ctx.session.get(Unit, ctx.person.unit_id)
        name = unit.name if unit else ""
        items = queues.unit_queue(ctx.session, ctx.person.unit_id, ctx.now)
        if lines:
            lines.append("")
        if items:
            late = sum(1 for i in items if i.overdue)
            lines.append(ctx._(HOME_UNIT, unit=name, count=len(items), late=late))
        else:
            lines.append(ctx._(HOME_UNIT_NONE, unit=name))
        for item in items[:QUEUE_PAGE]:
            lines.append(_report_line(ctx, item))
            choices.append(
                _open_choice(item.report, f"{item.report.code} · {shorten(item.category, 28)}")
            )
    own = queues.own_reports(ctx.session, ctx.person_id, OWN_PAGE)
    if not own and not staff:
        return start_new(ctx)
    if own:
        if lines:
            lines.append("")
        lines.append(ctx._(HOME_OWN))
        for report in own:
            status = ctx._(RESIDENT_LABELS[Status(report.status)])
            lines.append(f"• {report.code} · {status} · {shorten(report.text, 60)}")
            choices.append(_open_choice(report, f"{report.code} · {status}"))
    elif not staff:
        lines.append(ctx._(HOME_NONE))
    choices.append(Choice(ctx._(NEW_REPORT), DraftChoice(Draft.NEW).pack()))
    return [Reply(text="\n".join(lines), choices=choices)]


# ------------------------------------------------------------------ writing a report


def start_new(
    ctx: Context,
    *,
    text: str = "",
    category_id: int | None = None,
    village_id: int | None = None,
) -> list[Reply]:
    """Begin a new report at the category step (text and place may come from free text)."""
    _commune(ctx)
    ctx.begin(
        FeedbackFlow.category,
        text=text if len(text) >= store.TEXT_MIN else "",
        suggested=category_id,
        village_id=village_id if village_id is not None else ctx.person.village_id,
        village_known=village_id is not None or ctx.person.village_id is not None,
        landmark="",
        point=None,
        photos=[],
        contact=None,
        channel=ctx.message.channel,
    )
    return prompt(ctx)


def prompt(ctx: Context) -> list[Reply]:
    """The question of the step the person is at (also what "carry on" shows)."""
    step = FeedbackFlow.step_named(ctx.state.step)
    data = ctx.data
    commune = _commune(ctx)
    assert commune.id is not None
    if step is FeedbackFlow.category:
        categories = store.active_categories(ctx.session, commune.id)
        suggested = data.get("suggested")
        ordered = sorted(categories, key=lambda c: c.id != suggested)
        choices = [
            Choice(
                ctx._(SUGGESTED, name=c.name) if c.id == suggested else c.name,
                CategoryChoice(c.id).pack(),  # type: ignore[arg-type]
            )
            for c in ordered
        ]
        return [Reply(text=ctx._(ASK_CATEGORY), choices=choices)]
    if step is FeedbackFlow.text:
        return [ctx.reply(ASK_TEXT)]
    if step is FeedbackFlow.village:
        return [_village_prompt(ctx, commune.id)]
    if step is FeedbackFlow.landmark:
        text = ctx._(ASK_LANDMARK)
        if ctx.message.channel == "telegram":
            text = f"{text}\n{ctx._(ASK_LANDMARK_TELEGRAM)}"
        return [Reply(text=text, choices=[Choice(ctx._(SKIP), DraftChoice(Draft.SKIP).pack())])]
    if step is FeedbackFlow.photos:
        return [
            Reply(
                text=ctx._(ASK_PHOTOS),
                choices=[
                    Choice(ctx._(DONE), DraftChoice(Draft.DONE).pack()),
                    Choice(ctx._(NO_PHOTOS), DraftChoice(Draft.SKIP).pack()),
                ],
            )
        ]
    if step is FeedbackFlow.contact:
        return [
            Reply(
                text=ctx._(ASK_CONTACT),
                choices=[
                    Choice(ctx._(CONTACT_YES), DraftChoice(Draft.CONTACT).pack()),
                    Choice(ctx._(CONTACT_NO), DraftChoice(Draft.ANONYMOUS).pack()),
                ],
            )
        ]
    if step is FeedbackFlow.confirm:
        return [_summary(ctx)]
    ctx.finish()
    return home(ctx)


def _village_prompt(ctx: Context, commune_id: int) -> Reply:
    data = ctx.data
    villages = queues.villages_of(ctx.session, commune_id)
    names = {v.id: v.name for v in villages}
    known = data.get("village_id") if data.get("village_known") else None
    if known in names:
        return Reply(
            text=ctx._(ASK_VILLAGE_KNOWN, village=names[known]),
            choices=[
                Choice(ctx._(HERE_VILLAGE, village=names[known]), DraftChoice(Draft.HERE).pack()),
                Choice(ctx._(OTHER_VILLAGE), DraftChoice(Draft.ELSEWHERE).pack()),
            ],
        )
    choices = [Choice(v.name, VillageChoice(v.id).pack()) for v in villages if v.id is not None]
    choices.append(Choice(ctx._(NO_VILLAGE_LABEL), DraftChoice(Draft.NO_VILLAGE).pack()))
    return Reply(text=ctx._(ASK_VILLAGE), choices=choices)


def _summary(ctx: Context) -> Reply:
    data = ctx.data
    category = ctx.session.get(FeedbackCategory, data.get("category_id") or 0)
    village = (
        ctx.session.get(Village, data.get("village_id") or 0) if data.get("village_id") else None
    )
    lines = [
        ctx._(SUMMARY),
        ctx._(SUMMARY_CATEGORY, category=category.name if category else "—"),
        ctx._(SUMMARY_TEXT, text=data.get("text", "")),
        ctx._(
            SUMMARY_PLACE,
            place=_place(ctx, str(data.get("landmark") or ""), village.name if village else ""),
        ),
    ]
    if data.get("point"):
        lines.append("📍 " + map_link(Point(*data["point"])))
    lines.append(ctx._(SUMMARY_PHOTOS, count=len(data.get("photos") or [])))
    lines.append(ctx._(SUMMARY_CONTACT_YES if data.get("contact") else SUMMARY_CONTACT_NO))
    return Reply(
        text="\n".join(lines),
        choices=[
            Choice(ctx._(SEND), DraftChoice(Draft.SEND).pack()),
            Choice(ctx._(RESTART), DraftChoice(Draft.RESTART).pack()),
            Choice(ctx._(CANCEL), DraftChoice(Draft.CANCEL).pack()),
        ],
    )


def _after_text(ctx: Context) -> list[Reply]:
    ctx.goto(FeedbackFlow.village)
    return prompt(ctx)


def _after_place(ctx: Context) -> list[Reply]:
    ctx.goto(FeedbackFlow.photos)
    return prompt(ctx)


def _add_draft_photo(ctx: Context) -> list[Reply] | None:
    """Store a photo sent while writing; None when the message carries no photo."""
    commune = _commune(ctx)
    limit = load_feedback_policy(commune.settings).max_photos
    photos = list(ctx.data.get("photos") or [])
    if ctx.message.attachment is None:
        return None
    if len(photos) >= limit:
        raise UserError(store.MSG_TOO_MANY_PHOTOS, limit=limit)
    photo = _photo_from(ctx, keep_location=bool(ctx.data.get("point")))
    if photo is None:
        return None
    photos.append(photo.to_dict())
    ctx.goto(FeedbackFlow.photos, photos=photos)
    return [
        Reply(
            text=ctx._(GOT_PHOTO, count=len(photos)),
            choices=[Choice(ctx._(DONE), DraftChoice(Draft.DONE).pack())],
        )
    ]


def _send(ctx: Context) -> list[Reply]:
    commune = _commune(ctx)
    data = ctx.data
    point = Point(*data["point"]) if data.get("point") else None
    new = store.NewReport(
        category_id=int(data.get("category_id") or 0),
        text=str(data.get("text") or ""),
        village_id=data.get("village_id"),
        landmark=str(data.get("landmark") or ""),
        point=point,
        contact_allowed=bool(data.get("contact")),
        photos=tuple(StoredPhoto.from_dict(p) for p in data.get("photos") or []),
        source="chat",
        channel=str(data.get("channel") or ctx.message.channel),
    )
    submitted = store.submit(
        ctx.session, commune=commune, reporter_id=ctx.person_id, new=new, now=ctx.now, tz=ctx.tz
    )
    ctx.finish()
    report = submitted.report
    if submitted.duplicate:
        status = ctx._(RESIDENT_LABELS[Status(report.status)])
        return [
            Reply(
                text=ctx._(DUPLICATE, code=report.code, status=status),
                choices=[_open_choice(report, report.code)],
            )
        ]
    _wake(ctx)
    lines = [ctx._(SENT, code=report.code)]
    unit = ctx.session.get(Unit, report.unit_id) if report.unit_id else None
    if unit is not None:
        lines.append(ctx._(SENT_UNIT, unit=unit.name, due=_due(ctx, report.answer_due_at)))
    else:
        lines.append(ctx._(SENT_OFFICE, due=_due(ctx, report.answer_due_at)))
    lines.append(ctx._(SENT_AFTER))
    if report.urgent:
        # 113, 114 and 115 are the national emergency numbers (police; fire and rescue;
        # ambulance): ngaynay.vn "Đề xuất hợp nhất các số điện thoại khẩn cấp", read 03/2026.
        lines.append(ctx._(SENT_URGENT))
    return [Reply(text="\n".join(lines))]


# ------------------------------------------------------------------ one report


def _event_line(ctx: Context, view: queues.ReportView, event: FeedbackEvent) -> str:
    label = EVENT_LABELS.get(event.kind)
    when = ctx.t.datetime(event.at.astimezone(ctx.tz))
    if label is None:
        return f"• {when} {event.kind}"
    unit = view.units.get(event.unit_id or -1, "")
    text = ctx._(label, unit=unit, text=event.text).rstrip()
    return f"• {when} {text}"


def _resident_view(ctx: Context, view: queues.ReportView) -> list[Reply]:
    report = view.report
    assert report.id is not None
    status = view.status
    lines = [
        ctx._(VIEW_TITLE, code=report.code, category=view.category.name),
        ctx._(VIEW_STATUS, status=ctx._(RESIDENT_LABELS[status])),
        ctx._(VIEW_UNIT, unit=view.unit) if view.unit else ctx._(VIEW_NO_UNIT),
        ctx._(VIEW_TEXT, text=report.text),
        ctx._(VIEW_HISTORY),
        *(_event_line(ctx, view, e) for e in view.public_events()),
    ]
    choices = []
    if status is not Status.CLOSED:
        choices.append(Choice(ctx._(ACT_INFO), ReportChoice(Verb.INFO, report.id).pack()))
    if status in (Status.ANSWERED, Status.CLOSED) and report.answered_at and not view.rated:
        choices.append(Choice(ctx._(ACT_RATE_YES), RateChoice(report.id, True).pack()))
        choices.append(Choice(ctx._(ACT_RATE_NO), RateChoice(report.id, False).pack()))
    choices.append(Choice(ctx._(ACT_LIST), DraftChoice(Draft.LIST).pack()))
    reply = Reply(text="\n".join(lines), choices=choices)
    fixes = [p for p in view.photos if p.purpose == "fix"]
    _attach(ctx, reply, fixes[-1:] or [])
    return [reply]


def _attach(ctx: Context, reply: Reply, photos: list[FeedbackPhoto]) -> None:
    """Show the first stored photo with the reply (links are listed in its text)."""
    for photo in photos:
        if photo.kind == "photo" and photo.storage_path:
            data = read_stored(_photo_dir(ctx), photo.storage_path)
            if data is not None:
                reply.image, reply.image_name = data, f"phan-anh{_extension(photo.mime_type)}"
                return
        if photo.url:
            reply.text += f"\n📷 {photo.url}"


def _extension(mime: str) -> str:
    return {"image/png": ".png", "image/webp": ".webp"}.get(mime, ".jpg")


def _staff_view(ctx: Context, view: queues.ReportView, capacity: Actor) -> list[Reply]:
    report = view.report
    assert report.id is not None
    status = view.status
    lines = [ctx._(VIEW_TITLE, code=report.code, category=view.category.name)]
    if report.urgent:
        lines.append(ctx._(VIEW_URGENT))
    lines.append(ctx._(VIEW_STATUS, status=ctx._(STATUS_LABELS[status])))
    lines.append(ctx._(VIEW_UNIT, unit=view.unit) if view.unit else ctx._(VIEW_NO_UNIT))
    lines.append(
        ctx._(
            VIEW_DATES,
            received=_due(ctx, report.created_at),
            answer=_due(ctx, report.answer_due_at),
            close=_due(ctx, report.close_due_at),
        )
    )
    if queues.is_overdue(report, ctx.now):
        lines.append(ctx._(VIEW_LATE))
    lines.append(ctx._(VIEW_PLACE, place=_place(ctx, report.landmark, view.village)))
    if report.latitude is not None and report.longitude is not None:
        lines.append(ctx._(VIEW_MAP, link=map_link(Point(report.latitude, report.longitude))))
    lines.append(ctx._(VIEW_TEXT, text=report.text))
    if view.reporter is not None:
        lines.append(ctx._(VIEW_REPORTER, name=view.reporter.display_name or "—"))
    else:
        lines.append(ctx._(VIEW_ANONYMOUS))
    resident_photos = [p for p in view.photos if p.purpose != "fix"]
    if view.photos:
        lines.append(ctx._(VIEW_PHOTOS, count=len(view.photos)))
    lines.append(ctx._(VIEW_HISTORY))
    lines.extend(_event_line(ctx, view, e) for e in view.events)
    choices: list[Choice] = []

    def act(label: str, verb: Verb) -> None:
        assert report.id is not None
        choices.append(Choice(ctx._(label), ReportChoice(verb, report.id).pack()))

    if capacity is Actor.UNIT and status in WITH_UNIT:
        act(ACT_ANSWER, Verb.ANSWER)
        if report.contact_allowed and report.reporter_id is not None:
            act(ACT_ASK, Verb.ASK)
        act(ACT_FIX, Verb.FIX)
        act(ACT_BACK, Verb.BACK)
    if ctx.has_role(Role.OFFICE) and status is not Status.CLOSED:
        act(ACT_ASSIGN, Verb.ASSIGN)
        if status in (Status.ANSWERED, Status.REOPENED) and report.unit_id is not None:
            act(ACT_RETURN, Verb.RETURN)
        act(ACT_CLOSE, Verb.CLOSE)
    if capacity is Actor.UNIT and status not in WITH_UNIT and status is not Status.CLOSED:
        act(ACT_FIX, Verb.FIX)
    act(ACT_NOTE, Verb.NOTE)
    choices.append(Choice(ctx._(ACT_LIST), DraftChoice(Draft.LIST).pack()))
    reply = Reply(text="\n".join(lines), choices=choices)
    _attach(ctx, reply, resident_photos or view.photos)
    return [reply]


def open_report(ctx: Context, report_id: int) -> list[Reply]:
    """One report, as this person may see it (resident, unit officer or office)."""
    report = ctx.session.get(FeedbackReport, report_id)
    if report is None:
        raise UserError(store.MSG_NO_REPORT)
    capacity = store.staff_capacity(ctx.session, report, ctx.person)
    view = queues.report_view(ctx.session, report_id)
    if capacity is not None:
        return _staff_view(ctx, view, capacity)
    if report.reporter_id == ctx.person_id:
        return _resident_view(ctx, view)
    raise UserError(store.MSG_NO_REPORT)


def _work(
    ctx: Context, step: Step, report: FeedbackReport, question: str, *, skip: bool = False
) -> list[Reply]:
    ctx.begin(step, report_id=report.id)
    choices = [Choice(ctx._(SKIP), DraftChoice(Draft.SKIP).pack())] if skip else []
    return [Reply(text=ctx._(question, code=report.code), choices=choices)]


def _report(ctx: Context, report_id: int) -> FeedbackReport:
    report = ctx.session.get(FeedbackReport, report_id)
    if report is None or report.commune_id != ctx.person.commune_id:
        raise UserError(store.MSG_NO_REPORT)
    return report


def _work_report(ctx: Context) -> FeedbackReport:
    return _report(ctx, int(ctx.data.get("report_id") or 0))


def _done(ctx: Context, message: str, report: FeedbackReport, **params: Any) -> list[Reply]:
    ctx.finish()
    _wake(ctx)
    assert report.id is not None
    return [ctx.reply(message, code=report.code, **params), *open_report(ctx, report.id)]


# ------------------------------------------------------------------ registration


def register(registry: Registry) -> None:
    """Register /phananh, the report flow, the officers' and the office's actions."""

    @registry.command(
        "phananh", "feedback", description=N_("Report a problem to the commune; your reports")
    )
    def feedback_command(ctx: Context, argument: str) -> list[Reply]:
        """Show the person's queues and reports, or resume the report they were writing."""
        if argument.strip():
            report = queues.find_report(ctx.session, ctx.person.commune_id, argument)
            if report is not None and report.id is not None:
                ctx.finish()
                return open_report(ctx, report.id)
        if ctx.in_flow(FeedbackFlow) and not ctx.at(FeedbackFlow.offer):
            return [
                Reply(
                    text=ctx._(MSG_RESUME),
                    choices=[
                        Choice(ctx._(MSG_RESUME_YES), DraftChoice(Draft.CONTINUE).pack()),
                        Choice(ctx._(MSG_RESUME_NO), DraftChoice(Draft.DISCARD).pack()),
                    ],
                )
            ]
        ctx.finish()
        return home(ctx)

    @registry.on_choice(DraftChoice)
    def draft_choice(ctx: Context, data: DraftChoice) -> list[Reply]:
        """Answer a question of the report being written (or a list/new button)."""
        answer = data.answer
        if answer is Draft.NEW:
            return start_new(ctx)
        if answer is Draft.LIST:
            ctx.finish()
            return home(ctx)
        if answer is Draft.SKIP and ctx.state.flow == WorkFlow.name:
            return _work_text(ctx, "")
        if not ctx.in_flow(FeedbackFlow):
            return [ctx.reply(MSG_STALE)]
        if answer is Draft.YES:
            return start_new(
                ctx,
                text=str(ctx.data.get("text") or ""),
                category_id=ctx.data.get("suggested"),
                village_id=ctx.data.get("village_id"),
            )
        if answer is Draft.NO:
            text = str(ctx.data.get("text") or "")
            ctx.finish()
            return _fall_through(ctx, text)
        if answer is Draft.CONTINUE:
            return prompt(ctx)
        if answer in (Draft.DISCARD, Draft.RESTART):
            return start_new(ctx)
        if answer is Draft.CANCEL:
            ctx.finish()
            return [ctx.reply(CANCELLED)]
        if answer is Draft.HERE and ctx.at(FeedbackFlow.village):
            ctx.goto(FeedbackFlow.landmark)
            return prompt(ctx)
        if answer is Draft.ELSEWHERE and ctx.at(FeedbackFlow.village):
            ctx.goto(FeedbackFlow.village, village_known=False)
            return prompt(ctx)
        if answer is Draft.NO_VILLAGE and ctx.at(FeedbackFlow.village):
            ctx.goto(FeedbackFlow.landmark, village_id=None, village_known=False)
            return prompt(ctx)
        if answer is Draft.SKIP and ctx.at(FeedbackFlow.landmark):
            return _after_place(ctx)
        if answer in (Draft.DONE, Draft.SKIP) and ctx.at(FeedbackFlow.photos):
            ctx.goto(FeedbackFlow.contact)
            return prompt(ctx)
        if answer in (Draft.CONTACT, Draft.ANONYMOUS) and ctx.at(FeedbackFlow.contact):
            ctx.goto(FeedbackFlow.confirm, contact=answer is Draft.CONTACT)
            return prompt(ctx)
        if answer is Draft.SEND and ctx.at(FeedbackFlow.confirm):
            return _send(ctx)
        return prompt(ctx)  # a button from an earlier step: ask the current question again

    @registry.on_choice(CategoryChoice)
    def category_chosen(ctx: Context, data: CategoryChoice) -> list[Reply]:
        """Keep the category; ask what happened unless the free text already said it."""
        if not ctx.at(FeedbackFlow.category):
            return start_new(ctx)
        categories = {c.id for c in store.active_categories(ctx.session, _commune(ctx).id or 0)}
        if data.category_id not in categories:
            return [ctx.reply(store.MSG_NO_CATEGORY), *prompt(ctx)]
        ctx.goto(FeedbackFlow.text, category_id=data.category_id)
        if ctx.data.get("text"):
            return _after_text(ctx)
        return prompt(ctx)

    @registry.on_choice(VillageChoice)
    def village_chosen(ctx: Context, data: VillageChoice) -> list[Reply]:
        """Keep the village and ask for a landmark."""
        if not ctx.at(FeedbackFlow.village):
            return [ctx.reply(MSG_STALE)]
        villages = {v.id for v in queues.villages_of(ctx.session, _commune(ctx).id or 0)}
        if data.village_id not in villages:
            return prompt(ctx)
        ctx.goto(FeedbackFlow.landmark, village_id=data.village_id, village_known=True)
        return prompt(ctx)

    @registry.step(FeedbackFlow.offer)
    def offer_text(ctx: Context, text: str) -> list[Reply]:
        """ "có" or "không" typed for the buttons; anything else is read afresh."""
        answer = _plain(text)
        if answer in _YES_WORDS or answer.startswith("co gui"):
            return draft_choice(ctx, DraftChoice(Draft.YES))
        if answer in _NO_WORDS:
            return draft_choice(ctx, DraftChoice(Draft.NO))
        ctx.finish()
        return _fall_through(ctx, text, include_self=True)

    @registry.step(FeedbackFlow.category)
    def category_text(ctx: Context, text: str) -> list[Reply]:
        """A category typed by name or keyword ("lua dao"), else ask again."""
        active = store.active_categories(ctx.session, _commune(ctx).id or 0)
        wanted = _plain(text)
        named = next((c.id for c in active if c.id is not None and _plain(c.name) == wanted), None)
        if named is not None:
            return category_chosen(ctx, CategoryChoice(named))
        found = category_named(text, [(c.id, store.keywords_of(c)) for c in active if c.id])
        if found is None:
            return prompt(ctx)
        category_id, described = found
        if described and not ctx.data.get("text"):
            ctx.goto(FeedbackFlow.category, text=store.check_text(text, minimum=1))
            villages = queues.villages_of(ctx.session, _commune(ctx).id or 0)
            guessed = guess_village(text, [(v.id, v.name) for v in villages if v.id])
            if guessed is not None:  # named in the text: before the person's own village
                ctx.goto(FeedbackFlow.category, village_id=guessed, village_known=True)
        return category_chosen(ctx, CategoryChoice(category_id))

    @registry.step(FeedbackFlow.text)
    def what_happened(ctx: Context, text: str) -> list[Reply]:
        """Keep what happened (a photo with a caption counts as both)."""
        photo_reply = _add_draft_photo(ctx) if ctx.message.attachment is not None else None
        if not text.strip():
            if photo_reply is not None:
                ctx.goto(FeedbackFlow.text)
                return [*photo_reply[:1], *prompt(ctx)]
            return prompt(ctx)
        words = store.check_text(text)
        ctx.goto(FeedbackFlow.text, text=words)
        if ctx.data.get("village_id") is None:
            guessed = guess_village(
                words,
                [
                    (v.id, v.name)
                    for v in queues.villages_of(ctx.session, _commune(ctx).id or 0)
                    if v.id
                ],
            )
            if guessed is not None:
                ctx.goto(FeedbackFlow.text, village_id=guessed, village_known=True)
        return _after_text(ctx)

    @registry.step(FeedbackFlow.village)
    def village_text(ctx: Context, text: str) -> list[Reply]:
        """A village typed by name; "có"/"không" to the village asked about; else a landmark."""
        villages = queues.villages_of(ctx.session, _commune(ctx).id or 0)
        wanted = _plain(text)
        known = ctx.data.get("village_id") if ctx.data.get("village_known") else None
        if known is not None and wanted in _YES_WORDS:
            return draft_choice(ctx, DraftChoice(Draft.HERE))
        if known is not None and wanted in _NO_WORDS:
            return draft_choice(ctx, DraftChoice(Draft.ELSEWHERE))
        chosen = next((v.id for v in villages if _plain(v.name) == wanted), None)
        if chosen is None:
            chosen = guess_village(text, [(v.id, v.name) for v in villages if v.id])
        if chosen is None and known is not None and len(wanted) >= 3:
            ctx.goto(FeedbackFlow.landmark, village_id=known, village_known=True)
            return landmark(ctx, text)  # "cổng đầu ngõ": the place, in the village asked about
        if chosen is None:
            return prompt(ctx)
        ctx.goto(FeedbackFlow.landmark, village_id=chosen, village_known=True)
        return prompt(ctx)

    @registry.step(FeedbackFlow.landmark)
    def landmark(ctx: Context, text: str) -> list[Reply]:
        """A landmark in words, typed coordinates or a location from the chat app."""
        point = _message_point(ctx.message) or parse_point(text)
        if point is not None:
            ctx.goto(FeedbackFlow.landmark, point=[point.latitude, point.longitude])
            words = text.strip()
            if not words or parse_point(words) is not None:
                return [
                    Reply(
                        text=ctx._(GOT_LOCATION),
                        choices=[Choice(ctx._(SKIP), DraftChoice(Draft.SKIP).pack())],
                    )
                ]
        if _plain(text) in _DONE_WORDS or not text.strip():
            return _after_place(ctx)
        ctx.goto(
            FeedbackFlow.landmark,
            landmark=store.check_text(text, minimum=2, limit=store.LANDMARK_MAX),
        )
        return _after_place(ctx)

    @registry.step(FeedbackFlow.photos)
    def photos(ctx: Context, text: str) -> list[Reply]:
        """Store each photo; "xong" moves on."""
        added = _add_draft_photo(ctx)
        if added is not None:
            return added
        if _plain(text) in _DONE_WORDS:
            ctx.goto(FeedbackFlow.contact)
            return prompt(ctx)
        return [
            Reply(
                text=ctx._(ASK_PHOTO_AGAIN),
                choices=[Choice(ctx._(DONE), DraftChoice(Draft.DONE).pack())],
            )
        ]

    @registry.step(FeedbackFlow.contact)
    def contact(ctx: Context, text: str) -> list[Reply]:
        """Yes or no, typed."""
        answer = _plain(text)
        if answer in _NO_WORDS:
            ctx.goto(FeedbackFlow.confirm, contact=False)
        elif answer in _YES_WORDS:
            ctx.goto(FeedbackFlow.confirm, contact=True)
        return prompt(ctx)

    @registry.step(FeedbackFlow.confirm)
    def confirm(ctx: Context, text: str) -> list[Reply]:
        """ "gửi" sends; anything else shows the summary again."""
        if _plain(text) in _YES_WORDS:
            return _send(ctx)
        return prompt(ctx)

    # -------------------------------------------------------- existing reports

    @registry.on_choice(ReportChoice)
    def report_action(ctx: Context, data: ReportChoice) -> list[Reply]:
        """Open a report, or start typing something about it."""
        report = _report(ctx, data.report_id)
        verb = data.verb
        if verb is Verb.OPEN:
            ctx.finish()
            return open_report(ctx, data.report_id)
        if verb is Verb.INFO:
            if report.reporter_id != ctx.person_id:
                raise UserError(store.MSG_ONLY_REPORTER, code=report.code)
            return _work(ctx, WorkFlow.info, report, ASK_INFO)
        capacity = store.staff_capacity(ctx.session, report, ctx.person)
        if capacity is None:
            raise UserError(store.MSG_ONLY_STAFF, code=report.code)
        if verb is Verb.NOTE:
            return _work(ctx, WorkFlow.note, report, ASK_NOTE)
        if verb is Verb.FIX:
            return _work(ctx, WorkFlow.fix, report, ASK_FIX)
        if verb in (Verb.ANSWER, Verb.ASK, Verb.BACK):
            if capacity is not Actor.UNIT:
                raise UserError(store.MSG_ONLY_UNIT, code=report.code)
            step, question = {
                Verb.ANSWER: (WorkFlow.answer, ASK_ANSWER),
                Verb.ASK: (WorkFlow.ask, ASK_QUESTION),
                Verb.BACK: (WorkFlow.back, ASK_BACK),
            }[verb]
            return _work(ctx, step, report, question)
        if not ctx.has_role(Role.OFFICE):
            raise UserError(store.MSG_ONLY_OFFICE, code=report.code)
        if verb is Verb.CLOSE:
            return _work(ctx, WorkFlow.close, report, ASK_CLOSE, skip=True)
        if verb is Verb.RETURN:
            return _work(ctx, WorkFlow.send_back, report, ASK_RETURN)
        units = queues.units_of(ctx.session, report.commune_id)
        if not units:
            return [ctx.reply(NO_UNITS)]
        assert report.id is not None
        choices = [
            Choice(
                ("✅ " if u.id == report.unit_id else "") + u.name,
                UnitChoice(report.id, u.id).pack(),
            )
            for u in units
            if u.id is not None
        ]
        ctx.finish()
        return [Reply(text=ctx._(ASK_UNIT, code=report.code), choices=choices)]

    @registry.on_choice(UnitChoice)
    def unit_chosen(ctx: Context, data: UnitChoice) -> list[Reply]:
        """The office sends the report to the chosen unit."""
        report = _report(ctx, data.report_id)
        store.assign(
            ctx.session, data.report_id, by=ctx.person, unit_id=data.unit_id, now=ctx.now, tz=ctx.tz
        )
        unit = ctx.session.get(Unit, data.unit_id)
        return _done(ctx, DONE_ASSIGN, report, unit=unit.name if unit else "")

    @registry.on_choice(RateChoice)
    def rated(ctx: Context, data: RateChoice) -> list[Reply]:
        """👍 closes at once; 👎 asks why first."""
        report = _report(ctx, data.report_id)
        if not data.satisfied:
            if report.reporter_id != ctx.person_id:
                raise UserError(store.MSG_ONLY_REPORTER, code=report.code)
            return _work(ctx, WorkFlow.unhappy, report, ASK_UNHAPPY, skip=True)
        outcome = store.rate(
            ctx.session, data.report_id, by=ctx.person, satisfied=True, now=ctx.now, tz=ctx.tz
        )
        ctx.finish()
        _wake(ctx)
        message = RATED_CLOSED if outcome is store.Rated.CLOSED else RATED_RECORDED
        return [ctx.reply(message, code=report.code)]

    def _work_text(ctx: Context, text: str) -> list[Reply]:
        """What was typed at a step of the work flow."""
        report = _work_report(ctx)
        assert report.id is not None
        step = WorkFlow.step_named(ctx.state.step)
        if step is WorkFlow.info:
            photo = _photo_from(ctx, keep_location=False)
            if photo is None and not text.strip():
                return [ctx.reply(ASK_INFO)]
            store.add_info(
                ctx.session,
                report.id,
                by=ctx.person,
                text=text,
                photos=[photo] if photo else [],
                now=ctx.now,
                tz=ctx.tz,
            )
            return _done(ctx, DONE_INFO, report)
        if step is WorkFlow.answer:
            store.answer(ctx.session, report.id, by=ctx.person, text=text, now=ctx.now, tz=ctx.tz)
            return _done(ctx, DONE_ANSWER, report)
        if step is WorkFlow.note:
            store.add_note(ctx.session, report.id, by=ctx.person, text=text, now=ctx.now)
            return _done(ctx, DONE_NOTE, report)
        if step is WorkFlow.fix:
            photo = _photo_from(ctx, keep_location=False)
            if photo is None:
                return [ctx.reply(ASK_FIX)]
            store.add_fix_photo(
                ctx.session, report.id, by=ctx.person, photo=photo, now=ctx.now, caption=text
            )
            return _done(ctx, DONE_FIX, report)
        if step is WorkFlow.ask:
            store.ask_resident(
                ctx.session, report.id, by=ctx.person, question=text, now=ctx.now, tz=ctx.tz
            )
            return _done(ctx, DONE_QUESTION, report)
        if step is WorkFlow.back:
            store.hand_back(
                ctx.session, report.id, by=ctx.person, reason=text, now=ctx.now, tz=ctx.tz
            )
            return _done(ctx, DONE_BACK, report)
        if step is WorkFlow.close:
            note = "" if _plain(text) in _DONE_WORDS else text
            store.close(ctx.session, report.id, by=ctx.person, note=note, now=ctx.now, tz=ctx.tz)
            return _done(ctx, DONE_CLOSE, report)
        if step is WorkFlow.send_back:
            store.return_to_unit(
                ctx.session, report.id, by=ctx.person, reason=text, now=ctx.now, tz=ctx.tz
            )
            return _done(ctx, DONE_RETURN, report)
        if step is WorkFlow.unhappy:
            comment = "" if _plain(text) in _DONE_WORDS else text
            outcome = store.rate(
                ctx.session,
                report.id,
                by=ctx.person,
                satisfied=False,
                comment=comment,
                now=ctx.now,
                tz=ctx.tz,
            )
            ctx.finish()
            _wake(ctx)
            message = RATED_REOPENED if outcome is store.Rated.REOPENED else RATED_RECORDED
            return [ctx.reply(message, code=report.code)]
        ctx.finish()
        return home(ctx)

    for work_step in WorkFlow.steps():
        registry.step(work_step)(_work_text)

    # -------------------------------------------------------- free text

    def _fall_through(ctx: Context, text: str, *, include_self: bool = False) -> list[Reply]:
        """Hand a text to the free-text handlers after this one (the guides, in the end)."""
        handlers: list[TextHandler] = ctx.services.registry.text_handlers
        start = handlers.index(maybe_report) + (0 if include_self else 1)
        for handler in handlers[start:]:
            replies = handler(ctx, text)
            if replies is not None:
                return replies
        return [ctx.reply(MSG_NOTHING)]

    @registry.text
    def maybe_report(ctx: Context, text: str) -> list[Reply] | None:
        """Free text that looks like a report: offer to send it as one (never silently)."""
        if ctx.person.commune_id is None or not text.strip():
            return None
        commune_id = ctx.person.commune_id

        def categories() -> list[tuple[int, list[str]]]:  # loaded only if it may be a report
            active = store.active_categories(ctx.session, commune_id)
            return [(c.id, store.keywords_of(c)) for c in active if c.id is not None]

        found = detect(text, categories)
        if found is None:
            return None
        if says_only_report(text):  # "phản ánh": nothing said yet, so ask what happened
            return start_new(ctx)
        villages = queues.villages_of(ctx.session, ctx.person.commune_id)
        village = guess_village(text, [(v.id, v.name) for v in villages if v.id is not None])
        ctx.begin(
            FeedbackFlow.offer,
            text=store.check_text(text, minimum=1),
            suggested=found.category_id,
            village_id=village,
        )
        return [
            Reply(
                text=ctx._(MSG_OFFER_ASKED if found.asked else MSG_OFFER, text=shorten(text, 200)),
                choices=[
                    Choice(ctx._(MSG_OFFER_YES), DraftChoice(Draft.YES).pack()),
                    Choice(ctx._(MSG_OFFER_NO), DraftChoice(Draft.NO).pack()),
                ],
            )
        ]
