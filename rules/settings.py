"""Bureau settings: every threshold, weight, colour and measure a deployment may change.

Defaults live in `rules/defaults/<section>.toml`, one file per section, so each rule family owns
its own file. A deployment overrides any key with a TOML/JSON file named by JXDOC_SETTINGS_FILE or
with the values the administrator saved in the browser; overrides are deep-merged onto the
defaults and then checked by the section's validator, so a bad setting is refused with a Chinese
message before any document uses it.

The validators are listed explicitly, one list per layer that owns sections, and nothing
registers itself on import: the rule sections here (RULE_VALIDATORS); the forms' sections
(target_declaration, target_review) in forms.settings.FORM_VALIDATORS, which extends this list;
the service's (letterhead, layout) in service.settings_store.SERVICE_VALIDATORS, which extends
the forms'. Each layer's loader passes its list to `load_settings`, so a section is checked
whatever modules a process happens to have imported, and no layer imports upward.
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

__all__ = ["DEFAULTS_DIR", "RULE_VALIDATORS", "SettingsError", "Validator", "deep_merge", "default_values",
           "defaults", "load_settings", "read_override_file", "thaw"]


def load_settings(*overrides: Mapping | None,
                  validators: Mapping[str, Validator] = RULE_VALIDATORS) -> Mapping[str, Any]:
    """Defaults deep-merged with each override in turn, checked by `validators` (section ->
    `func(section_values) -> [messages]`; a higher layer passes its own list, which extends
    RULE_VALIDATORS), and frozen (read-only)."""
    values = default_values()
    for override in overrides:
        if override:
            values = deep_merge(values, override)
    errors: dict[str, list[str]] = {}
    for section, validator in validators.items():
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
