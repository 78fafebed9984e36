"""Every rule section's settings are checked whatever modules a process has imported: a bogus
`negative_rule` was accepted when rules.scoring had not been imported yet."""

import subprocess
import sys
from pathlib import Path

import pytest

from rules.settings import RULE_VALIDATORS, SettingsError, default_values, load_settings

ROOT = Path(__file__).resolve().parents[2]


def fresh_process(prelude: str, loader: str, override: dict) -> str:
    """What `loader`.load_settings(override) does in a new interpreter after `prelude`:
    "refused [sections]" or "accepted"."""
    code = (f"{prelude}\n"
            "from rules.settings import SettingsError\n"
            f"from {loader} import load_settings\n"
            "try:\n"
            f"    load_settings({override!r})\n"
            "except SettingsError as exc:\n"
            "    print('refused', list(exc.messages))\n"
            "else:\n"
            "    print('accepted')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return out.stdout.strip() or out.stderr


def test_a_fresh_process_importing_only_the_settings_refuses_a_bogus_rule():
    prelude = ("import sys\nimport rules.settings\n"
               "assert 'kinds' not in sys.modules and 'forms' not in sys.modules")
    assert fresh_process(prelude, "rules.settings",
                         {"scoring": {"indicator": {"negative_rule": "bogus"}}}) == "refused ['scoring']"


@pytest.mark.parametrize("section, override", [
    ("scoring", {"indicator": {"negative_rule": "bogus"}}),
    ("monitoring", {"budget_basis": "nonsense"}),
    ("plausibility", {"execution": {"rate_ceiling": "-1"}}),
    ("prose", {"headings": {"number_comma": "maybe"}}),
    ("public_funds", {"rule": "lottery"}),
])
def test_each_rule_section_is_checked(section, override):
    with pytest.raises(SettingsError) as exc:
        load_settings({section: override})
    assert list(exc.value.messages) == [section]


def test_the_default_files_pass_every_check():
    assert set(RULE_VALIDATORS) <= set(default_values())
    assert load_settings()["plausibility"]["wan_yuan_ceiling"]["default"] == "1000000"


# One bogus value per section owned above rules/, with the loader of the layer that owns it.
HIGHER_SECTIONS = [
    ("forms.settings", "target_declaration", {"blank_form": {"midterm_rows": 0}}),
    ("forms.settings", "target_review", {"rules": {"approve_min_score": "150"}}),
    ("service.settings_store", "target_declaration", {"funds": {"check_totals": "yes"}}),
    ("service.settings_store", "target_review", {"rules": {"require_changes_unless_approved": "no"}}),
    ("service.settings_store", "letterhead", {"issuer_code": "青财绩〔2026〕"}),
    ("service.settings_store", "layout", {"colors": {"red": "red"}}),
]


@pytest.mark.parametrize("also_import", ["", "import kinds", "import forms.declaration, forms.review"])
@pytest.mark.parametrize("loader, section, override", HIGHER_SECTIONS)
def test_a_fresh_process_checks_every_section_of_its_layer(loader, section, override, also_import):
    # Nothing registers on import any more: the loader's explicit list is what checks, so the
    # result is the same whether the forms (or the whole kinds registry) were imported or not.
    assert fresh_process(also_import, loader, {section: override}) == f"refused [{section!r}]"


def test_the_rule_loader_leaves_the_higher_sections_to_their_layers():
    # rules/ cannot know the forms' or the service's checks (no upward import); their loaders do.
    from forms.settings import FORM_VALIDATORS
    from service.settings_store import SERVICE_VALIDATORS

    assert set(RULE_VALIDATORS) < set(FORM_VALIDATORS) < set(SERVICE_VALIDATORS)
    assert set(SERVICE_VALIDATORS) <= set(default_values()) | {"letterhead"}
    load_settings({"target_review": {"rules": {"approve_min_score": "150"}}})
