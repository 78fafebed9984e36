"""Every rule section's settings are checked whatever modules a process has imported: a bogus
`negative_rule` was accepted when rules.scoring had not been imported yet."""

import subprocess
import sys
from pathlib import Path

import pytest

from rules.settings import RULE_VALIDATORS, SettingsError, default_values, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_process_importing_only_the_settings_refuses_a_bogus_rule():
    code = ("import sys\n"
            "from rules.settings import SettingsError, load_settings\n"
            "assert 'kinds' not in sys.modules and 'forms' not in sys.modules\n"
            "try:\n"
            "    load_settings({'scoring': {'indicator': {'negative_rule': 'bogus'}}})\n"
            "except SettingsError as exc:\n"
            "    print('refused', list(exc.messages))\n"
            "else:\n"
            "    print('accepted')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "refused ['scoring']", out.stderr


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
