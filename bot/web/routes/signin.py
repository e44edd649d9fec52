"""Sign-in with a one-time link, and sign-out."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import Session

from bot.i18n import N_
from bot.web import views
from bot.web.access import may_sign_in
from bot.web.auth import (
    COOKIE_NAME,
    FIRST_RUN_PATH,
    PROVINCE_PATH,
    close_session,
    cookie_options,
    open_session,
    peek_login_token,
    redeem_login_token,
)
from bot.web.keys import CSRF_TOKEN, SERVICES, TEMPLATES
from bot.web.render import (
    MSG_FORBIDDEN_BODY,
    MSG_FORBIDDEN_TITLE,
    html,
    message,
)

MSG_LINK_BAD_TITLE = N_("This sign-in link cannot be used")
MSG_LINK_BAD_BODY = N_(
    "The link was already used or it has expired (links work once, for 15 minutes). "
    "Send /dashboard to the bot to get a new one."
)
MSG_SIGNED_OUT_TITLE = N_("You are signed out")
MSG_SIGNED_OUT_BODY = N_("To come back, send /dashboard to the bot for a new sign-in link.")


async def login_form(request: web.Request) -> web.StreamResponse:
    """Show the confirmation button of a valid sign-in link (opening it spends nothing)."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    token = request.match_info["token"]

    def work() -> web.StreamResponse:
        with Session(services.engine) as session:
            row = peek_login_token(session, token, services.clock())
            if row is None:
                return message(env, 403, MSG_LINK_BAD_TITLE, MSG_LINK_BAD_BODY)
            return html(
                env,
                "login.html",
                viewer=None,
                nav=[],
                page=None,
                commune_name="",
                action=request.path,
                csrf_token=request[CSRF_TOKEN],
            )

    return await asyncio.to_thread(work)


async def login_submit(request: web.Request) -> web.StreamResponse:
    """Spend a sign-in link, open a session and set its cookie."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    token = request.match_info["token"]

    def work() -> web.StreamResponse:
        now = services.clock()
        with Session(services.engine) as session:
            person_id = redeem_login_token(session, token, now)
            if person_id is None:
                session.rollback()
                return message(env, 403, MSG_LINK_BAD_TITLE, MSG_LINK_BAD_BODY)
            viewer = views.load_viewer(session, person_id)
            if viewer is None or not may_sign_in(viewer.roles):
                session.commit()
                return message(env, 403, MSG_FORBIDDEN_TITLE, MSG_FORBIDDEN_BODY)
            opened = open_session(session, person_id, now)
            session.commit()
        # The first admin of an empty database names the commune first; a province
        # officer (of no commune) lands on the province page.
        landing = "/"
        if viewer.commune_id is None:
            landing = PROVINCE_PATH if viewer.reads_province else FIRST_RUN_PATH
        response = web.Response(status=303, headers={"Location": landing})
        options = cookie_options(services.settings.public_base_url)
        response.set_cookie(COOKIE_NAME, opened.token, **options)  # type: ignore[arg-type]
        return response

    return await asyncio.to_thread(work)


async def logout(request: web.Request) -> web.StreamResponse:
    """Sign out: revoke the session and forget the cookie."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    cookie = request.cookies.get(COOKIE_NAME)

    def work() -> web.StreamResponse:
        with Session(services.engine) as session:
            close_session(session, cookie)
            session.commit()
        response = message(env, 200, MSG_SIGNED_OUT_TITLE, MSG_SIGNED_OUT_BODY)
        options = cookie_options(services.settings.public_base_url)
        response.del_cookie(
            COOKIE_NAME, path="/", secure=bool(options["secure"]), httponly=True, samesite="Lax"
        )
        return response

    return await asyncio.to_thread(work)
