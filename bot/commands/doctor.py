"""``tocns doctor``: tell an admin, in Vietnamese, why Zalo cannot reach this tocns."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.commands.base import CliArgs, CommandTree
from bot.i18n import N_, Translator


def _webhook_url(settings: Any) -> str | None:
    if not settings.webhook_mode or not settings.public_base_url:
        return None
    return str(settings.public_base_url).rstrip("/") + "/webhook/zalo"


async def diagnose(args: argparse.Namespace, settings: Any, t: Translator) -> int:
    """Run the checks ``args`` ask for against ``settings`` and print the findings."""
    from bot.channels.zalo_client import ZaloClient
    from bot.channels.zalo_doctor import (
        Finding,
        explain_probe,
        probe_webhook,
        render,
        run_doctor,
    )

    secret_value = settings.zalo_webhook_secret
    secret = secret_value.get_secret_value() if secret_value is not None else None
    url = _webhook_url(settings)
    async with ZaloClient(
        settings.zalo_token.get_secret_value(), base_url=settings.zalo_base_url, max_retries=1
    ) as client:
        findings = await run_doctor(client, webhook_url=url, secret=secret or None, test=args.test)
    if args.probe:
        if url is None:
            findings.append(
                Finding("info", N_("--probe needs webhook mode and TOCNS_PUBLIC_BASE_URL."))
            )
        elif not secret:
            findings.append(
                Finding(
                    "info",
                    N_(
                        "--probe needs TOCNS_ZALO_WEBHOOK_SECRET: without it tocns makes a new "
                        "secret each time it starts."
                    ),
                )
            )
        else:
            findings.append(explain_probe(await probe_webhook(url, secret), url))
    for line in render(findings, t):
        print(line)
    return 1 if any(f.level == "problem" for f in findings) else 0


def cmd_doctor(args: CliArgs) -> int:
    """Check the Zalo bot token and webhook, and explain what is wrong."""
    settings, t = args.settings, args.t
    if not settings.zalo_enabled:
        print(t.gettext(N_("Zalo is not set up: TOCNS_ZALO_TOKEN is empty.")))
        return 1
    return asyncio.run(diagnose(args, settings, t))


def register(tree: CommandTree) -> None:
    """Add ``tocns doctor`` to the command tree."""
    _ = tree.t.gettext
    parser = tree.command(
        "doctor", cmd_doctor, N_("check the Zalo bot token and webhook and explain what is wrong")
    )
    parser.add_argument(
        "--test",
        action="store_true",
        help=_("ask Zalo to call the webhook now (testWebhook: a few times a day)"),
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help=_("call the public webhook URL from this server the way Zalo does"),
    )
