"""Configuration: defaults, then JXDOC_* environment variables, then the caller's overrides."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "JXDOC_"


def env(key: str, default: str | None = None) -> str | None:
    """The JXDOC_<key> environment variable as written. Every JXDOC_* variable is read here (the
    web app's through from_environment, the runner's, Celery's and the command line's through
    this), so one module says what the environment can change (tests/test_config_reader.py)."""
    return os.environ.get(PREFIX + key, default)


def _data_dir() -> Path:
    return Path(env("DATA_DIR") or ROOT / "var").resolve()


def defaults() -> dict:
    data_dir = _data_dir()
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'jxdoc.sqlite3'}",
        "SECRET_KEY": None,  # read from the environment or DATA_DIR/secret_key (created once)
        "JOB_RUNNER": "embedded",  # or "celery"
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SETTINGS_FILE": "",  # TOML/JSON overriding rules/defaults/*.toml
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,  # uploads and JSON bodies
        # Documents rendered inside a request (service.render_limits): longer ones go to the runner.
        "RENDER_MAX_PAGES": 200,
        "RENDER_PAGES_PER_HOUR": 2000,  # per user
        "RENDER_CONCURRENT": 2,  # per user
        # Seconds a request may spend validating stored documents the statistics have not seen
        # (storage.records.year_documents); the page then says how far it got and carries on when
        # reloaded, well inside gunicorn's 120 s worker timeout.
        "STATISTICS_BUDGET_S": 50,
        "MAX_UPLOAD_MB": 20,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,  # set JXDOC_SESSION_COOKIE_SECURE=1 behind HTTPS
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_HOURS": 12,  # a sign-in lasts this long (cookie and server-side session row)
        "SUBMISSION_MAX_KB": 1024,  # one document's data as stored (the largest sample is ~30 KB)
        "DRAFT_QUOTA_KB": 20 * 1024,  # a user's drafts (and returned documents) together
        "API_TOKEN_DAYS": 90,  # an API token works this long; a password change revokes it sooner
        "JSON_SORT_KEYS": False,
        "TIMEZONE": "Asia/Shanghai",  # how the pages show times; the database keeps UTC
        # `jxdoc serve`: nginx reads requests whole in front of gunicorn (service/front.py), or
        # "none" behind a deployment's own buffering proxy
        "FRONT": "nginx",
        "CLIENT_TIMEOUT": 10,  # seconds a client may stall sending its request before nginx drops it
        "FRONT_PROXY": False,  # set by `jxdoc serve` for gunicorn when nginx is in front
        "TRUSTED_PROXIES": 0,  # proxies of the deployment before jxdoc (a TLS terminator: 1)
    }


_BOOLS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def from_environment(base: dict) -> dict:
    """Override any default key from JXDOC_<KEY>, converting to the default's type."""
    out = dict(base)
    for key, default in base.items():
        raw = env(key)
        if raw is None:
            continue
        if isinstance(default, bool):
            if raw.lower() not in _BOOLS:
                raise RuntimeError(f"环境变量 {PREFIX}{key} 应为 1/0、true/false，现在是 {raw!r}。")
            out[key] = _BOOLS[raw.lower()]
        elif isinstance(default, int):
            try:
                out[key] = int(raw)
            except ValueError:
                raise RuntimeError(f"环境变量 {PREFIX}{key} 应为整数，现在是 {raw!r}。") from None
        else:
            out[key] = raw
    if env("MAX_UPLOAD_MB"):
        out["MAX_CONTENT_LENGTH"] = out["MAX_UPLOAD_MB"] * 1024 * 1024
    return out


def secret_key(data_dir: Path) -> str:
    """A per-installation secret kept in DATA_DIR, so sessions survive restarts without a
    hard-coded key."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
