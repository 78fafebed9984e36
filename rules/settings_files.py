"""The settings files and their mechanics: defaults read from `rules/defaults/<section>.toml`,
overrides read from TOML/JSON and deep-merged, values frozen read-only.

The rule modules read their defaults here (`defaults()`), below rules.settings, which imports
their validators to check every override: so the checks are listed in one place and no rule
module has to be imported for its settings to be checked.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULTS_DIR = Path(__file__).with_name("defaults")


class SettingsError(ValueError):
    """A setting failed validation; `messages` maps 'section.key' paths to Chinese messages."""

    def __init__(self, messages: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {'；'.join(v)}" for k, v in messages.items()))
        self.messages = messages


def freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
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


_default_cache: Mapping[str, Any] | None = None


def defaults() -> Mapping[str, Any]:
    """The default values, read once per process (checked by rules.settings.load_settings in the
    tests: the files in the repository pass every validator)."""
    global _default_cache
    if _default_cache is None:
        _default_cache = freeze(default_values())
    return _default_cache
