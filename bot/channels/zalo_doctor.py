"""Why Zalo cannot reach tocns: the checks behind ``tocns doctor``.

Zalo only delivers messages to a webhook it can call: an HTTPS URL with a valid
certificate, reachable from Zalo's servers, that lets through requests whose User-Agent
is ``Java/…`` and answers 2xx to a request carrying the right ``X-Bot-Api-Secret-Token``.
Most failures are in between: a firewall or WAF refusing Java clients (403), a reverse
proxy not forwarding the path (404) or not reaching tocns (502/504), an expired or
incomplete certificate, or a secret that differs from the one registered.

:func:`diagnose_check` reads one webhook call's outcome (a pure function);
:func:`run_doctor` calls getMe, getWebhookInfo and, when asked, testWebhook (Zalo allows
it a few times a day) and returns findings; :func:`probe_webhook` calls the public URL
from this server the way Zalo does. Every message is a gettext id of the ``zalo`` domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from bot.channels.zalo_client import (
    InvalidWebhookSecret,
    Verdict,
    WebhookCheck,
    ZaloAPIError,
    ZaloClient,
    ZaloNetworkError,
    check_webhook_secret,
)
from bot.i18n import N_, Translator

__all__ = [
    "Finding",
    "Problem",
    "diagnose_check",
    "probe_webhook",
    "render",
    "run_doctor",
]

ZALO_USER_AGENT = "Java/17.0.12"  # Zalo's calls carry "Java/<version>"
SECRET_HEADER = "X-Bot-Api-Secret-Token"


class Problem(StrEnum):
    """Why a call to the webhook failed, as far as its outcome tells."""

    OK = "ok"
    TLS = "tls"
    WAF = "waf"
    NOT_FOUND = "not_found"
    WRONG_SECRET = "wrong_secret"
    BAD_REQUEST = "bad_request"
    SERVER_ERROR = "server_error"
    PROXY_CANNOT_REACH_TOCNS = "proxy_cannot_reach_tocns"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"


_TLS_WORDS = ("ssl", "tls", "certificate", "handshake", "pkix", "x509")
_TIMEOUT_WORDS = ("timeout", "timed out")
_UNREACHABLE_WORDS = (
    "refused",
    "unreachable",
    "resolve",
    "unknownhost",
    "dns",
    "connect",
    "no route",
)


def diagnose_check(check: WebhookCheck) -> Problem:
    """Tell from one webhook call's outcome what went wrong (``Problem.OK`` when nothing).

    tocns answers 401 to a missing or wrong secret, so a 401 means the secret Zalo holds
    is not the one this tocns checks; a 403 comes from a firewall or WAF in front of it.
    """
    if check.ok:
        return Problem.OK
    status = check.status_code
    if status is not None:
        if 200 <= status < 300:
            return Problem.OK
        if status == 401:
            return Problem.WRONG_SECRET
        if status == 403:
            return Problem.WAF
        if status in (404, 405):
            return Problem.NOT_FOUND
        if status in (400, 411, 413, 415):
            return Problem.BAD_REQUEST
        if status in (502, 503, 504):
            return Problem.PROXY_CANNOT_REACH_TOCNS
        if status >= 500:
            return Problem.SERVER_ERROR
        return Problem.UNKNOWN
    detail = check.description.lower()
    if any(word in detail for word in _TLS_WORDS):
        return Problem.TLS
    if any(word in detail for word in _TIMEOUT_WORDS):
        return Problem.TIMEOUT
    if any(word in detail for word in _UNREACHABLE_WORDS):
        return Problem.UNREACHABLE
    return Problem.UNKNOWN


# What an admin reads for each problem: ``{url}``, ``{path}``, ``{status}``, ``{detail}``.
ADVICE: dict[Problem, str] = {
    Problem.OK: N_("Zalo reached the webhook {url} and tocns answered."),
    Problem.TLS: N_(
        "Zalo could not open a secure (HTTPS) connection to {url}: the certificate is "
        "expired, self-signed, for another name, or its chain is incomplete. Install a "
        "valid certificate with its full chain (for example from Let's Encrypt)."
    ),
    Problem.WAF: N_(
        "A firewall or WAF in front of tocns refused Zalo's call (403). In the reverse "
        'proxy, allow POST requests to {path} whose User-Agent starts with "Java/", keep '
        "the X-Bot-Api-Secret-Token header, and do not ask this path for cookies, a captcha "
        "or a browser check."
    ),
    Problem.NOT_FOUND: N_(
        "Zalo reached the server but {path} was not found ({status}). Forward POST {path} "
        "from the reverse proxy to tocns, and start tocns in webhook mode "
        "(TOCNS_WEBHOOK_MODE=true)."
    ),
    Problem.WRONG_SECRET: N_(
        "tocns refused Zalo's call because the secret does not match (401). Set the same "
        "TOCNS_ZALO_WEBHOOK_SECRET for every tocns process and restart it so it registers "
        "the webhook again."
    ),
    Problem.BAD_REQUEST: N_(
        "The server refused what Zalo sent ({status}). Zalo's test call may have an empty "
        "body: the reverse proxy must pass it on unchanged, and tocns must be up to date."
    ),
    Problem.PROXY_CANNOT_REACH_TOCNS: N_(
        "The reverse proxy answered {status}: it cannot reach tocns. Check that tocns is "
        "running and that the proxy forwards to the right address and port."
    ),
    Problem.SERVER_ERROR: N_(
        "tocns or the reverse proxy failed ({status}). Look at tocns's log at the time of the call."
    ),
    Problem.TIMEOUT: N_(
        "Zalo waited too long for {url}. Check that tocns answers quickly and that the "
        "server is not overloaded."
    ),
    Problem.UNREACHABLE: N_(
        "Zalo could not connect to {url}: check the domain name (DNS), that port 443 is open "
        "to the internet, and that the server is on."
    ),
    Problem.UNKNOWN: N_("Zalo's call to {url} failed: {detail}"),
}


Level = Literal["ok", "warning", "problem", "info"]
_MARKS: dict[Level, str] = {"ok": "✓", "warning": "!", "problem": "✗", "info": "·"}


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: a level and a message id with its parameters."""

    level: Level
    message: str
    params: dict[str, str] = field(default_factory=dict)
    problem: Problem | None = None

    def render(self, t: Translator) -> str:
        """The line an admin reads, in their language."""
        return f"{_MARKS[self.level]} {t.gettext(self.message, **self.params)}"


def render(findings: list[Finding], t: Translator) -> list[str]:
    """Every finding as a line of text."""
    return [finding.render(t) for finding in findings]


def explain_check(check: WebhookCheck, url: str) -> Finding:
    """The finding for one webhook call's outcome."""
    problem = diagnose_check(check)
    params = {
        "url": url,
        "path": urlsplit(url).path or "/",
        "status": str(check.status_code) if check.status_code is not None else "-",
        "detail": check.description or "-",
    }
    level: Level = "ok" if problem is Problem.OK else "problem"
    return Finding(level, ADVICE[problem], params, problem)


async def run_doctor(
    client: ZaloClient,
    *,
    webhook_url: str | None,
    secret: str | None = None,
    test: bool = False,
) -> list[Finding]:
    """Check the bot token, the registered webhook and, with ``test``, Zalo's call to it.

    ``webhook_url`` is the URL this tocns expects Zalo to call (``None`` in polling mode).
    """
    findings: list[Finding] = []
    try:
        me = await client.get_me()
    except ZaloNetworkError:
        return [
            Finding(
                "problem",
                N_(
                    "This server cannot reach Zalo's API: check its internet connection and firewall."
                ),
            )
        ]
    except ZaloAPIError as error:
        if error.verdict is Verdict.CONFIG:
            message = N_(
                "Zalo refuses the bot token ({code}). Copy the token again from Zalo Bot "
                "Creator into TOCNS_ZALO_TOKEN."
            )
        else:
            message = N_("Zalo answered getMe with an error: {code} {detail}")
        return [
            Finding(
                "problem", message, {"code": str(error.error_code), "detail": error.description}
            )
        ]
    findings.append(
        Finding(
            "ok",
            N_("Zalo accepts the bot token: {name} ({id})."),
            {"name": str(me.get("account_name", "")), "id": str(me.get("id", ""))},
        )
    )
    if secret is not None:
        try:
            check_webhook_secret(secret)
        except InvalidWebhookSecret:
            findings.append(
                Finding(
                    "problem",
                    N_(
                        "TOCNS_ZALO_WEBHOOK_SECRET must be 8 to 256 letters, digits or signs "
                        "without spaces; Zalo refuses it otherwise."
                    ),
                )
            )
    try:
        info = await client.get_webhook_info()
    except ZaloAPIError as error:
        findings.append(
            Finding(
                "problem",
                N_("Zalo answered getWebhookInfo with an error: {code} {detail}"),
                {"code": str(error.error_code), "detail": error.description},
            )
        )
        return findings
    if info is None:
        if webhook_url:
            findings.append(
                Finding(
                    "problem",
                    N_(
                        "No webhook is registered with Zalo, so messages do not reach tocns. "
                        "Start tocns in webhook mode: it registers {url} itself."
                    ),
                    {"url": webhook_url},
                )
            )
        else:
            findings.append(
                Finding(
                    "ok", N_("No webhook is registered: tocns fetches messages itself (polling).")
                )
            )
        return findings
    params = {"url": info.url, "expected": webhook_url or ""}
    if not webhook_url:
        findings.append(
            Finding(
                "warning",
                N_(
                    "A webhook is registered at {url}, so Zalo does not answer polling. tocns "
                    "in polling mode removes it when it starts."
                ),
                params,
            )
        )
    elif info.url.rstrip("/") != webhook_url.rstrip("/"):
        findings.append(
            Finding(
                "warning",
                N_(
                    "Zalo calls {url}, but this tocns expects {expected}. Restart tocns to register it again."
                ),
                params,
            )
        )
    else:
        findings.append(Finding("ok", N_("The webhook registered with Zalo is {url}."), params))
    if urlsplit(info.url).scheme != "https":
        findings.append(
            Finding("problem", N_("Zalo only calls HTTPS addresses, not {url}."), params)
        )
    if not test:
        findings.append(
            Finding(
                "info",
                N_(
                    "Add --test to ask Zalo to call the webhook now (Zalo allows this a few times a day)."
                ),
            )
        )
        return findings
    try:
        check = await client.test_webhook()
    except ZaloAPIError as error:
        if error.verdict is Verdict.QUOTA:
            findings.append(
                Finding(
                    "warning",
                    N_("Zalo's daily limit of webhook tests is used up (426). Try again tomorrow."),
                )
            )
        else:
            findings.append(
                Finding(
                    "problem",
                    N_("Zalo answered testWebhook with an error: {code} {detail}"),
                    {"code": str(error.error_code), "detail": error.description},
                )
            )
        return findings
    if check.ok is None and check.status_code is None:
        findings.append(
            Finding(
                "warning",
                N_("Zalo did not say how its call to the webhook went: {detail}"),
                {"detail": check.description or str(check.raw)},
            )
        )
        return findings
    findings.append(explain_check(check, info.url))
    return findings


@dataclass(frozen=True)
class ProbeResult:
    """Two calls from this server to the public webhook URL: as Zalo, and as a browser."""

    as_zalo: WebhookCheck
    as_browser: WebhookCheck


async def _post(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], timeout: float
) -> WebhookCheck:
    try:
        async with session.post(
            url, data=b"", headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            await response.read()
            status = response.status
    except TimeoutError:
        return WebhookCheck(ok=False, description="timed out")
    except aiohttp.ClientSSLError as error:
        return WebhookCheck(ok=False, description=f"TLS: {type(error).__name__}")
    except aiohttp.ClientError as error:
        return WebhookCheck(ok=False, description=f"connect: {type(error).__name__}")
    return WebhookCheck(ok=200 <= status < 300, status_code=status)


async def probe_webhook(
    url: str, secret: str, *, session: aiohttp.ClientSession | None = None, timeout: float = 10.0
) -> ProbeResult:
    """Call ``url`` from this server as Zalo does (Java User-Agent, secret, empty body), then
    as a browser would: the difference shows what a WAF lets through."""
    own = session is None
    http = session or aiohttp.ClientSession()
    try:
        as_zalo = await _post(
            http, url, {"User-Agent": ZALO_USER_AGENT, SECRET_HEADER: secret}, timeout
        )
        as_browser = await _post(
            http,
            url,
            {"User-Agent": "Mozilla/5.0 (tocns doctor)", SECRET_HEADER: secret},
            timeout,
        )
    finally:
        if own:
            await http.close()
    return ProbeResult(as_zalo, as_browser)


def explain_probe(result: ProbeResult, url: str) -> Finding:
    """The finding for a probe: the Zalo-like call's outcome, sharpened by the browser's."""
    zalo, browser = result.as_zalo, result.as_browser
    if zalo.status_code == 403 and browser.status_code not in (None, 403):
        return Finding(
            "problem",
            N_(
                "From this server, {url} refuses a Java User-Agent (403) but lets a browser "
                "through ({status}): the WAF blocks Zalo. Allow User-Agents starting with "
                '"Java/" on this path.'
            ),
            {"url": url, "status": str(browser.status_code)},
            Problem.WAF,
        )
    finding = explain_check(zalo, url)
    if finding.problem is Problem.OK:
        return Finding(
            "ok",
            N_("From this server, {url} accepts a call made the way Zalo makes it."),
            {"url": url},
            Problem.OK,
        )
    return finding
