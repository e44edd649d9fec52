"""tocns: chat bot and dashboard for commune community digital technology teams."""

import os

# python-telegram-bot 22: durations as timedelta (its announced default); without this
# flag it warns on every RetryAfter, and warnings are errors in our tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")
