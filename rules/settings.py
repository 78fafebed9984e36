"""Bureau settings: every threshold, weight, colour and measure a deployment may change.

Defaults live in `rules/defaults/<section>.toml`, one file per section, so each rule family owns
its own file. A deployment overrides any key with a TOML/JSON file named by JXDOC_SETTINGS_FILE or
with the values the administrator saved in the browser; overrides are deep-merged onto the
defaults and then checked by the section's validator, so a bad setting is refused with a Chinese
message before any document uses it.

The validators of the rule sections are listed here, explicitly (RULE_VALIDATORS): a section is
checked whatever modules happen to be imported. Sections owned by higher layers (the forms'
target_declaration and target_review, the service's letterhead and layout) add theirs with
register_validator when their module is imported — which every entry point does through the
kinds registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rules import indicators, monitoring, plausibility, prose, public_funds, scoring, signing
from rules.settings_files import (
    DEFAULTS_DIR,
    SettingsError,
    deep_merge,
    default_values,
    freeze,
    read_override_file,
    thaw,
)

Validator = Callable[[Mapping[str, Any]], list[str]]

RULE_VALIDATORS: Mapping[str, Validator] = {
    "scoring": scoring.validate_scoring_settings,
    "monitoring": monitoring.validate_settings,
    "declaration": indicators.validate_settings,
    "public_funds": public_funds.validate_settings,
    "plausibility": plausibility.validate_settings,
    "prose": prose.validate_settings,
    "signing": signing.validate_settings,
}
_validators: dict[str, Validator] = {}

__all__ = ["DEFAULTS_DIR", "RULE_VALIDATORS", "SettingsError", "deep_merge", "default_values", "defaults",
           "load_settings", "read_override_file", "register_validator", "thaw"]


def register_validator(section: str, func: Validator) -> Validator:
    """Register `func(section_values) -> [messages]` for a section owned above rules/ (forms,
    service); the rule sections are in RULE_VALIDATORS."""
    if section in RULE_VALIDATORS:
        raise ValueError(f"settings section {section!r} is checked by RULE_VALIDATORS")
    _validators[section] = func
    return func


def load_settings(*overrides: Mapping | None) -> Mapping[str, Any]:
    """Defaults deep-merged with each override in turn, validated, and frozen (read-only)."""
    values = default_values()
    for override in overrides:
        if override:
            values = deep_merge(values, override)
    errors: dict[str, list[str]] = {}
    for section, validator in {**RULE_VALIDATORS, **_validators}.items():
        problems = validator(values.get(section, {}))
        if problems:
            errors[section] = problems
    if errors:
        raise SettingsError(errors)
    return freeze(values)


_default_cache: Mapping[str, Any] | None = None


def defaults() -> Mapping[str, Any]:
    """The validated defaults, read once per process."""
    global _default_cache
    if _default_cache is None:
        _default_cache = load_settings()
    return _default_cache
