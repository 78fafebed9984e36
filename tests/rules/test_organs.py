"""rules.organs: how many organs one addressee line names (a 请示 has one)."""

import pytest

from forms.base import FieldErrors
from kinds import pipeline
from rules.organs import split_organs
from rules.settings import defaults
from tests.conftest import load_sample


@pytest.mark.parametrize("text, organs", [
    ("县人民政府", ["县人民政府"]),
    ("县委、县政府", ["县委", "县政府"]),
    ("中共伊吾县委员会、伊吾县人民政府", ["中共伊吾县委员会", "伊吾县人民政府"]),
    ("县委，县政府", ["县委", "县政府"]),
    ("县委和县政府", ["县委", "县政府"]),
    ("县委县政府", ["县委", "县政府"]),
    ("青溪县住房和城乡建设局", ["青溪县住房和城乡建设局"]),
    ("青溪县人力资源和社会保障局", ["青溪县人力资源和社会保障局"]),
    ("县财政局及县审计局", ["县财政局", "县审计局"]),
])
def test_split_organs(text, organs):
    assert split_organs(text, defaults()) == organs


@pytest.mark.parametrize("addressee", ["县委、县政府", "中共伊吾县委员会、伊吾县人民政府", "县委和县政府"])
def test_request_with_two_organs_in_one_line_is_refused(addressee):
    payload = load_sample("request")
    payload["addressees"] = [addressee]
    with pytest.raises(FieldErrors) as exc:
        pipeline.validate("request", payload)
    (message,) = exc.value.errors["addressees"]
    assert message.startswith(f"请示只能主送一个上级机关：“{addressee}”是")


def test_summary_draft_addressee_is_one_organ():
    from service.drafts import summary_drafts
    from tests.kinds.test_drafts import INPUTS

    with pytest.raises(FieldErrors) as exc:
        summary_drafts({**INPUTS, "addressee": "县委、县政府", "units": []}, defaults())
    assert exc.value.errors["addressee"] == [
        "请示只能主送一个上级机关：“县委、县政府”是2个机关（县委；县政府），请只填一个（如“县政府”）。"]
