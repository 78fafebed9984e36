"""The settings as the forms layer checks them: the rule sections' validators and the forms' own
(target_declaration, target_review), listed here explicitly so that loading settings at this
layer or above checks them whatever modules a process has imported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms import declaration, review
from rules.settings import RULE_VALIDATORS, Validator
from rules.settings import load_settings as load_rule_settings

FORM_VALIDATORS: Mapping[str, Validator] = {
    **RULE_VALIDATORS,
    "target_declaration": declaration.validate_settings,
    "target_review": review.validate_settings,
}


def load_settings(*overrides: Mapping | None) -> Mapping[str, Any]:
    """rules.settings.load_settings checked by FORM_VALIDATORS."""
    return load_rule_settings(*overrides, validators=FORM_VALIDATORS)
