"""The settings in force: defaults, then the deployment's settings file (JXDOC_SETTINGS_FILE)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from rules.settings import load_settings, read_override_file


def init_app(app) -> None:
    path = app.config.get("SETTINGS_FILE")
    override = read_override_file(path) if path else None
    app.extensions["jxdoc.settings"] = load_settings(override)


def current_settings() -> Mapping[str, Any]:
    return current_app.extensions["jxdoc.settings"]
