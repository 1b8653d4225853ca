"""One Settings class for the whole product (environment prefix WARNFLOW_)."""

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "warnflow-demo-secret-do-not-use-in-production"
DEFAULT_DEMO_PASSWORD = "Warnflow@2026"
DEMO_ID_NUMBER_KEY = "warnflow-demo-id-number-key-do-not-use-in-production"


class ConfigError(RuntimeError):
    """The configuration cannot run the product; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARNFLOW_", env_file=".env", extra="ignore")

    # Unset means the embedded default: a SQLite file under var_dir.
    database_url: str | None = None
    var_dir: Path = Path("var")
    demo: bool = False
    demo_password: str = DEFAULT_DEMO_PASSWORD
    secret_key: SecretStr | None = None
    # The key of the ID-number hash (HMAC-SHA256): one per deployment, never changed once
    # persons are recorded (equal numbers are found by their hash).
    id_number_key: SecretStr | None = None
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000

    # Working-day deadlines used when a rule leaves its own empty.
    # Henan art. 16: suspicious data verified within 5 working days.
    default_verify_days: int = Field(5, ge=1, le=60)
    default_rectify_days: int = Field(15, ge=1, le=120)
    default_review_days: int = Field(3, ge=1, le=30)
    default_bell_lead_days: int = Field(3, ge=0, le=30)
    # A second pair of eyes: a warning on a payment above this many yuan that is concluded
    # normal (认定正常) waits for the supervisor's sign-off before it closes.
    normal_review_above_yuan: Decimal = Field(Decimal("100000"), ge=0, max_digits=16, decimal_places=2)
    # … and a bell's duty reported done by a person (按时履职 on a handler's word rather than
    # the platform's data) waits for the supervisor's sign-off before the bell clears.
    review_person_clearances: bool = True
    # The deadline ladder: a reminder this many working days before a step's deadline;
    # the supervisor is asked this many working days after it passed (rule may override).
    reminder_lead_days: int = Field(1, ge=0, le=30)
    escalation_grace_days: int = Field(2, ge=0, le=30)
    # How long a login lasts (a working day by default).
    session_minutes: int = Field(480, ge=5, le=7 * 24 * 60)
    # Cookies marked Secure need HTTPS; turn on behind a TLS proxy.
    secure_cookies: bool = False
    upload_max_bytes: int = 20 * 1024 * 1024
    # Any other request body (JSON, a form without files); larger ones are refused with 413.
    body_max_bytes: int = Field(8 * 1024 * 1024, ge=1024)

    # Imports (POST /api/v1/warnings/import, 数据导入 files, `warnflow import`).
    # A JSON batch of 10,000 warnings is a few MB; larger bodies are refused with 413.
    import_body_max_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    import_file_max_bytes: int = Field(50 * 1024 * 1024, ge=1024)
    import_max_rows: int = Field(200_000, ge=1)
    # One warning's payload (the platform's other fields), as JSON text.
    import_payload_max_bytes: int = Field(64 * 1024, ge=256)
    # A warning raised before this date, or after now plus the skew, is refused.
    import_earliest_date: date = date(2000, 1, 1)
    import_clock_skew_minutes: int = Field(10, ge=0, le=24 * 60)
    # Where an imported warning's first deadline counts from: the moment the platform raised
    # it (default; a warning imported late is not given extra days) or the moment it was
    # imported. WARNFLOW_IMPORT_DEADLINE_FROM=raised_at|import_time.
    import_deadline_from: Literal["raised_at", "import_time"] = "raised_at"

    # Who fires the periodic jobs (sweep, notifications, digest): APScheduler inside `serve`
    # (default), Prefect deployments run by a Prefect worker, or nobody (tests, one-off tools).
    scheduler: Literal["embedded", "prefect", "off"] = "embedded"
    # In prefect mode the Prefect worker's flow runs read the same settings; Prefect itself
    # reads PREFECT_API_URL (infra/README.md).
    # Job runs and leases older than this are pruned by the prune_job_history job.
    job_history_days: int = Field(90, ge=1, le=3650)

    # Notifications. Unset smtp_host: e-mail rows wait in the outbox (retried, then dead).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "warnflow@localhost"
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    webhook_timeout_seconds: float = 10.0
    # Links in e-mails and robot messages are this base plus the in-app path.
    public_base_url: str = "http://127.0.0.1:8000"
    # Backoff 1, 2, 4 … minutes between tries, capped; dead after the last try.
    notify_max_attempts: int = Field(6, ge=1, le=50)
    notify_backoff_cap_minutes: int = Field(60, ge=1, le=24 * 60)
    # A row claimed longer ago than this belongs to a worker that died: claim it again.
    notify_claim_timeout_minutes: int = Field(10, ge=1, le=24 * 60)

    # The three-consecutive-month rule (Henan art. 17), shown on the page /oversight/rule:
    # a month counts for a city or county when a case of these levels was unresolved at its
    # end; this many counting months in a row open a special inspection (专项督查), due in
    # inspection_days working days. After it closes, counting in interview_min_counting of
    # the next interview_window_months months opens an interview (约谈).
    # Regions whose on-time rate in a month is below this are listed as slow (Changchun art.
    # 18, 23) and may be circulated in a 通报.
    slow_on_time_rate: float = Field(0.8, ge=0, le=1)
    streak_levels: list[Literal["yellow_bell", "yellow_light", "red_light"]] = [
        "yellow_light",
        "red_light",
    ]
    streak_months: int = Field(3, ge=2, le=12)
    interview_window_months: int = Field(3, ge=1, le=12)
    interview_min_counting: int = Field(2, ge=1, le=12)
    inspection_days: int = Field(20, ge=1, le=120)
    interview_days: int = Field(15, ge=1, le=120)

    # The monthly summary's assessment of child regions (Henan art. 19): score = Σ weight × rate,
    # with on_time = 按期办结率, rectification = 整改率, overdue = 1 − 超期率. Weights sum to 100.
    assessment_weights: dict[str, int] = Field(
        default_factory=lambda: {"on_time": 40, "rectification": 40, "overdue": 20}
    )
    # How many overdue cases a monthly summary lists by name (the total is always given).
    report_overdue_limit: int = Field(50, ge=1, le=1000)
    # Monthly reports (issue 6): who receives a sent report by e-mail (PDF and XLSX attached),
    # e.g. WARNFLOW_REPORT_EMAIL_TO='["gkc@czt.example.cn"]'.
    report_email_to: list[str] = []
    # Report exchange between deployments (workflows/federation/exchange.py): our sender id (`iss`),
    # how long a token we sign is valid, the clock difference we accept on what we receive,
    # and, if set, the one region (code) whose sent reports go to our parent peers.
    deployment_id: str = Field("warnflow", min_length=1, max_length=64)
    federation_token_seconds: int = Field(300, ge=30, le=3600)
    federation_skew_seconds: int = Field(600, ge=0, le=3600)
    federation_timeout_seconds: float = 10.0
    federation_max_attempts: int = Field(8, ge=1, le=50)
    federation_region: str | None = None

    # The audit chain's head (workflows/audit/seal.py), rewritten after every seal: the chain
    # in the database must reach it, so deleting the newest rows and links is found. Unset:
    # beside the SQLite file, or var_dir/audit-head.json on PostgreSQL (put it on a volume
    # every process shares, and outside the database's reach if you can).
    audit_head_path: Path | None = None

    @field_validator("assessment_weights")
    @classmethod
    def _weights(cls, weights: dict[str, int]) -> dict[str, int]:
        expected = {"on_time", "rectification", "overdue"}
        if set(weights) != expected:
            raise ValueError(
                "assessment_weights 须且只须包含 on_time（按期办结率）、rectification（整改率）、"
                'overdue（超期率）三项，例如 {"on_time": 40, "rectification": 40, "overdue": 20}'
            )
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("assessment_weights 的权重不能为负数，且合计须大于 0")
        return weights

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'warnflow.sqlite3').resolve()}"

    @property
    def database_kind(self) -> str:
        return "sqlite" if self.resolved_database_url.startswith("sqlite") else "postgresql"

    @property
    def resolved_audit_head_path(self) -> Path:
        if self.audit_head_path is not None:
            return self.audit_head_path
        url = self.resolved_database_url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return Path(url.removeprefix("sqlite:///")).parent / "audit-head.json"
        return self.var_dir / "audit-head.json"

    @property
    def files_dir(self) -> Path:
        return self.var_dir / "files"

    def signing_key(self) -> str:
        """The session-signing secret; outside demo mode it must be set by the operator."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            value = self.secret_key.get_secret_value()
            if value == DEMO_SECRET and not self.demo:
                raise ConfigError(
                    "WARNFLOW_SECRET_KEY 仍是演示密钥，生产环境不得使用。"
                    " Set WARNFLOW_SECRET_KEY to a random value (e.g. `openssl rand -hex 32`)."
                )
            if len(value) < 32 and not self.demo:
                raise ConfigError(
                    "WARNFLOW_SECRET_KEY 太短（至少 32 个字符）。"
                    " Set WARNFLOW_SECRET_KEY to at least 32 random characters."
                )
            return value
        if self.demo:
            return DEMO_SECRET
        raise ConfigError(
            "未设置 WARNFLOW_SECRET_KEY，拒绝启动。"
            " Set WARNFLOW_SECRET_KEY (e.g. `export WARNFLOW_SECRET_KEY=$(openssl rand -hex 32)`),"
            " or run the demo with `warnflow demo`."
        )

    def id_number_hash_key(self) -> bytes:
        """The deployment's ID-number hash key; outside demo mode the operator sets it."""
        if self.id_number_key is not None and self.id_number_key.get_secret_value():
            value = self.id_number_key.get_secret_value()
            if value == DEMO_ID_NUMBER_KEY and not self.demo:
                raise ConfigError("WARNFLOW_ID_NUMBER_KEY 仍是演示密钥，生产环境不得使用。")
            return value.encode()
        if self.demo:
            return DEMO_ID_NUMBER_KEY.encode()
        raise ConfigError(
            "未设置 WARNFLOW_ID_NUMBER_KEY（身份证号散列密钥），拒绝启动。"
            " Set WARNFLOW_ID_NUMBER_KEY (e.g. `export WARNFLOW_ID_NUMBER_KEY=$(openssl rand -hex 32)`)."
        )

    def check_can_serve(self) -> None:
        """Refuse to start with default secrets outside the demo."""
        self.signing_key()
        self.id_number_hash_key()


@lru_cache
def get_settings() -> Settings:
    return Settings()
