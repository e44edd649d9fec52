"""One Settings object for the whole process (env vars prefixed TOCNS_, optional .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "xxx", "todo"}


class Settings(BaseSettings):
    """Runtime configuration with safe laptop defaults (SQLite file, console chat)."""

    model_config = SettingsConfigDict(
        env_prefix="TOCNS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    mode: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    db_busy_timeout_ms: int = Field(default=5000, ge=0)
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: Literal["vi", "en"] = "vi"
    log_level: str = "INFO"

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_bot_username: str = "tocns_bot"
    telegram_poll_timeout: int = Field(default=30, ge=0)
    # Seconds to wait for Telegram's answer to a send. A send that times out may still
    # have been delivered, so it is logged and not repeated (no double messages).
    telegram_read_timeout: float = Field(default=10.0, gt=0)

    zalo_token: SecretStr | None = None
    zalo_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_poll_timeout: int = Field(default=30, ge=1)
    # Group chats (a village's Zalo or Telegram group). Zalo groups are in beta: Zalo
    # delivers only messages that @mention the bot or reply to it.
    group_chats: bool = True
    # The names people type after "@" to address the Zalo bot in a group, besides the
    # display name getMe reports, comma-separated.
    zalo_bot_names: str = ""

    webhook_mode: bool = False
    public_base_url: str = ""
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    telegram_webhook_secret: SecretStr | None = None
    zalo_webhook_secret: SecretStr | None = None
    # Seconds a webhook call waits for its update to be handled before it answers: the
    # platform resends an update it got no answer for, so "200 OK" means committed. Work
    # still going after this many seconds goes on after the answer.
    webhook_answer_within: float = Field(default=8.0, gt=0)
    # Replies committed but still unsent this many seconds later were left by a process
    # that died: the reminder runner sends them (bot.core.unanswered).
    unsent_reply_grace: float = Field(default=30.0, gt=0)

    # Load the sample commune into an empty database (TOCNS_SAMPLE=0: start empty and
    # set up the real commune on the dashboard, from a first-admin link).
    sample: bool = True
    sample_plan: str = "trung-hoi"
    sample_history: bool = True  # a few months of invented tallies for the sample commune
    evidence_dir: Path | None = None
    unanswered_retention_days: int = Field(default=180, ge=1)
    # Closed feedback reports forget their resident and photos after this (Decree 13).
    feedback_retention_days: int = Field(default=365, ge=30)
    media_link_hours: float = Field(default=24.0, gt=0)  # how long Zalo file links work
    # /tiendo charts are drawn by matplotlib in a helper process that exits when idle,
    # so the bot itself stays small (matplotlib and numpy weigh ~50 MB resident).
    chart_helper: bool = True
    chart_idle_seconds: float = Field(default=120.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver.
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value[len("postgres://") :]
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret_zalo_accepts(cls, value: SecretStr | None) -> SecretStr | None:
        # setWebhook accepts 8 to 256 characters; it travels in an HTTP header.
        secret = value.get_secret_value() if value is not None else ""
        if secret and not (
            8 <= len(secret) <= 256 and all(0x21 <= ord(ch) <= 0x7E for ch in secret)
        ):
            raise ValueError(
                "TOCNS_ZALO_WEBHOOK_SECRET must be 8 to 256 printable ASCII characters "
                "without spaces (Zalo refuses other secrets)"
            )
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.mode != "production" or not self.webhook_mode:
            return self
        for name in ("telegram", "zalo"):
            token = getattr(self, f"{name}_token")
            secret = getattr(self, f"{name}_webhook_secret")
            if token is not None and (
                secret is None or secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
            ):
                raise ValueError(
                    f"TOCNS_{name.upper()}_WEBHOOK_SECRET must be set to a real secret "
                    "in production webhook mode"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tocns.sqlite3').as_posix()}"

    @property
    def effective_evidence_dir(self) -> Path:
        """Where uploaded evidence files are stored."""
        return self.evidence_dir or self.data_dir / "evidence"

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_token is not None and bool(self.telegram_token.get_secret_value())

    @property
    def zalo_enabled(self) -> bool:
        return self.zalo_token is not None and bool(self.zalo_token.get_secret_value())
