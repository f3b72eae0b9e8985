"""Every setting of Vigil, read once from the environment.

Nothing else in chalicelib reads ``os.environ``. PynamoDB reads table names at
import, so the environment must be complete before the app is imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    name_prefix: str
    log_level: str
    public_url: str

    jwt_secret: str | None
    jwt_secret_parameter: str | None
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    reset_token_ttl_seconds: int
    invitation_ttl_seconds: int
    bcrypt_rounds: int
    # Failed logins are throttled per (email, client address), with a ceiling per email:
    login_failures_before_delay: int  # failures in a row from one address that cost no wait
    login_max_delay_seconds: int  # the wait doubles from 1 s with each further failure, up to this
    login_window_seconds: int  # an address's failures are forgotten this long after its last one
    login_email_max_failures: int  # failures per email from all addresses within one window
    require_business_email: bool

    email_from: str

    min_interval_seconds: int
    allow_private_targets: bool
    dispatch_horizon_seconds: int
    jobs_per_message: int
    probe_concurrency: int
    check_retention_seconds: int
    incidents_stream_arn: str
    services_stream_arn: str
    incident_events_stream_arn: str
    status_pages_stream_arn: str
    status_posts_stream_arn: str
    maintenance_windows_stream_arn: str
    status_bucket: str  # where the publisher writes status/{slug}/... (the web app's bucket on AWS)
    websocket_api_id: str
    websocket_url: str

    classifier: str
    bedrock_model_id: str
    verify_sns_signatures: bool
    min_heartbeat_seconds: int = 60  # least heartbeat period and grace (tests of the local stack: less)

    def table(self, name: str) -> str:
        return f"{self.name_prefix}{name}"

    def queue(self, name: str) -> str:
        return f"{self.name_prefix}{name}"


def _websocket_url(env: Mapping[str, str]) -> str:
    explicit = env.get("VIGIL_WEBSOCKET_URL", "").strip().rstrip("/")
    api_id = env.get("VIGIL_WEBSOCKET_API_ID", "").strip()
    if explicit:
        return explicit
    if not api_id:
        return "ws://127.0.0.1:8001"  # the local stack's gateway (VIGIL_WS_PORT sets the real one)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"wss://{api_id}.execute-api.{region}.amazonaws.com/api"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        stage=env.get("VIGIL_STAGE", "local"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        name_prefix=env.get("VIGIL_NAME_PREFIX", "vigil-local-"),
        log_level=env.get("VIGIL_LOG_LEVEL", "INFO"),
        public_url=env.get("VIGIL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        jwt_secret=env.get("VIGIL_JWT_SECRET") or None,
        jwt_secret_parameter=env.get("VIGIL_JWT_SECRET_PARAMETER") or None,
        access_token_ttl_seconds=_int(env, "VIGIL_ACCESS_TOKEN_TTL_SECONDS", 900),
        refresh_token_ttl_seconds=_int(env, "VIGIL_REFRESH_TOKEN_TTL_SECONDS", 30 * 86400),
        reset_token_ttl_seconds=_int(env, "VIGIL_RESET_TOKEN_TTL_SECONDS", 3600),
        invitation_ttl_seconds=_int(env, "VIGIL_INVITATION_TTL_SECONDS", 14 * 86400),
        bcrypt_rounds=_int(env, "VIGIL_BCRYPT_ROUNDS", 12),
        login_failures_before_delay=_int(env, "VIGIL_LOGIN_FAILURES_BEFORE_DELAY", 5),
        login_max_delay_seconds=_int(env, "VIGIL_LOGIN_MAX_DELAY_SECONDS", 900),
        login_window_seconds=_int(env, "VIGIL_LOGIN_WINDOW_SECONDS", 3600),
        login_email_max_failures=_int(env, "VIGIL_LOGIN_EMAIL_MAX_FAILURES", 100),
        require_business_email=_flag(env.get("VIGIL_REQUIRE_BUSINESS_EMAIL")),
        email_from=env.get("VIGIL_EMAIL_FROM", "vigil@example.com"),
        min_interval_seconds=_int(env, "VIGIL_MIN_INTERVAL_SECONDS", 30),
        min_heartbeat_seconds=_int(env, "VIGIL_MIN_HEARTBEAT_SECONDS", 60),
        allow_private_targets=_flag(env.get("VIGIL_ALLOW_PRIVATE_TARGETS")),
        dispatch_horizon_seconds=_int(env, "VIGIL_DISPATCH_HORIZON_SECONDS", 60),
        jobs_per_message=_int(env, "VIGIL_JOBS_PER_MESSAGE", 25),
        probe_concurrency=_int(env, "VIGIL_PROBE_CONCURRENCY", 128),
        check_retention_seconds=_int(env, "VIGIL_CHECK_RETENTION_DAYS", 30) * 86400,
        # Chalice needs a literal ARN when the module loads; the local stack sets the real one, and
        # `make package` replaces this placeholder with the table's StreamArn (infra/template.yaml).
        incidents_stream_arn=env.get(
            "VIGIL_INCIDENTS_STREAM_ARN",
            "arn:aws:dynamodb:us-east-1:000000000000:table/vigil-incidents/stream/not-deployed",
        ),
        services_stream_arn=env.get(
            "VIGIL_SERVICES_STREAM_ARN",
            "arn:aws:dynamodb:us-east-1:000000000000:table/vigil-services/stream/not-deployed",
        ),
        incident_events_stream_arn=env.get(
            "VIGIL_INCIDENT_EVENTS_STREAM_ARN",
            "arn:aws:dynamodb:us-east-1:000000000000:table/vigil-incident-events/stream/not-deployed",
        ),
        status_pages_stream_arn=env.get(
            "VIGIL_STATUS_PAGES_STREAM_ARN",
            "arn:aws:dynamodb:us-east-1:000000000000:table/vigil-status-pages/stream/not-deployed",
        ),
        status_posts_stream_arn=env.get(
            "VIGIL_STATUS_PAGE_POSTS_STREAM_ARN",
            "arn:aws:dynamodb:us-east-1:000000000000:table/vigil-status-page-posts/stream/not-deployed",
        ),
        maintenance_windows_stream_arn=env.get(
            "VIGIL_MAINTENANCE_WINDOWS_STREAM_ARN",
            "arn:aws:dynamodb:us-east-1:000000000000:table/vigil-maintenance-windows/stream/not-deployed",
        ),
        # The template passes {"Ref": "WebBucket"}; the local stack creates "{prefix}web" in moto.
        status_bucket=env.get("VIGIL_STATUS_BUCKET") or f"{env.get('VIGIL_NAME_PREFIX', 'vigil-local-')}web",
        # The WebSocket API: its id (the template passes {"Ref": "WebsocketAPI"}; "local" under
        # `make run`) and the address clients connect to, built from the id unless set.
        websocket_api_id=env.get("VIGIL_WEBSOCKET_API_ID", ""),
        websocket_url=_websocket_url(env),
        classifier=env.get("VIGIL_CLASSIFIER", "offline").strip().lower(),
        bedrock_model_id=env.get("VIGIL_BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0"),
        # The embedded SNS does not sign what it delivers; deployed stacks always verify.
        verify_sns_signatures=not _flag(env.get("VIGIL_SKIP_SNS_SIGNATURES")),
    )


settings = load_settings()
