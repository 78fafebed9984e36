"""Bureau settings: every threshold, weight, colour and measure a deployment may change.

Defaults live in `rules/defaults/<section>.toml`, one file per section, so each rule family owns
its own file. A deployment overrides any key with a TOML/JSON file named by JXDOC_SETTINGS_FILE or
with the values the administrator saved in the browser; overrides are deep-merged onto the
defaults and then checked by the section's validator (if it registered one), so a bad setting is
refused with a Chinese message before any document uses it.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULTS_DIR = Path(__file__).with_name("defaults")

Validator = Callable[[Mapping[str, Any]], list[str]]
_validators: dict[str, Validator] = {}


class SettingsError(ValueError):
    """A setting failed validation; `messages` maps 'section.key' paths to Chinese messages."""

    def __init__(self, messages: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in messages.items()))
        self.messages = messages


def register_validator(section: str, func: Validator) -> Validator:
    """Register `func(section_values) -> [messages]` for a settings section."""
    _validators[section] = func
    return func


def _freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value):
    """A plain, mutable deep copy of (part of) the settings."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def deep_merge(base: dict, override: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(thaw(value))
    return out


def default_values() -> dict:
    values: dict[str, Any] = {}
    for path in sorted(DEFAULTS_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            values[path.stem] = tomllib.load(fh)
    return values


def read_override_file(path: str | Path) -> dict:
    path = Path(path)
    text = path.read_bytes()
    if path.suffix == ".json":
        return json.loads(text)
    return tomllib.loads(text.decode("utf-8"))


def load_settings(*overrides: Mapping | None) -> Mapping[str, Any]:
    """Defaults deep-merged with each override in turn, validated, and frozen (read-only)."""
    values = default_values()
    for override in overrides:
        if override:
            values = deep_merge(values, override)
    errors: dict[str, list[str]] = {}
    for section, validator in _validators.items():
        problems = validator(values.get(section, {}))
        if problems:
            errors[section] = problems
    if errors:
        raise SettingsError(errors)
    return _freeze(values)


_default_cache: Mapping[str, Any] | None = None


def defaults() -> Mapping[str, Any]:
    """The validated defaults, read once per process."""
    global _default_cache
    if _default_cache is None:
        _default_cache = load_settings()
    return _default_cache
