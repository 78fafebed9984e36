"""Fixtures for the 公文 renderers: layout-model Documents built from plain dicts.

`notice_data` is a realistic two-page 通知 (our own wording); the other fixtures vary one
feature at a time (letter format, upward with 签发人, joint issue, Party style).
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from generators.gongwen.model import build
from rules.settings import defaults

NOTICE = {
    "format": "file",
    "direction": "downward",
    "copy_number": "000123",
    "classification": "",
    "urgency": "加急",
    "issuer": "江夏市财政局",
    "joint_issuers": [],
    "issuer_mark": "",
    "mark_suffix": "文件",
    "party_style": False,
    "doc_number": "江财绩〔2024〕7号",
    "signers": [],
    "title": "江夏市财政局关于开展2024年度部门整体支出绩效自评工作的通知",
    "title_note": "",
    "addressees": ["市直各部门", "各区财政局"],
    "body": "\n".join([
        "为贯彻落实全面实施预算绩效管理的部署，进一步压实部门绩效管理主体责任，提高财政资金使用效益，现就开展2024年度部门整体支出绩效自评工作有关事项通知如下。",
        "一、自评范围",
        "纳入市级预算管理的各部门及其所属单位均应开展整体支出绩效自评，自评内容覆盖部门全部预算资金，重点关注民生保障、重大项目和政策性资金的执行情况与绩效目标完成情况。",
        "二、工作要求",
        "（一）加强组织领导。各部门要明确分管领导和责任科室，制定自评工作方案，细化任务分工和时间安排，确保自评工作按时保质完成。",
        "（二）客观真实评价。各部门要对照年初批复的绩效目标，逐项分析指标完成情况，如实反映存在的问题，不得虚报瞒报，不得以工作总结代替绩效自评。",
        "1.数据口径统一。预算执行数据以财政一体化系统决算数据为准，产出和效益指标应提供佐证材料。",
        "（1）佐证材料应当真实完整，按照指标逐项整理归档。",
        "（三）强化结果应用。自评结果将作为安排以后年度预算、完善政策和改进管理的重要依据，对自评结果较差的部门，市财政局将适当核减其下一年度项目预算规模。",
        "三、报送时间",
        "请于2024年3月31日前将自评报告和自评表报送市财政局预算绩效管理科，电子版同时发送至指定邮箱。逾期未报送的，视同自评结果为差。",
        "本通知执行中如有问题，请及时与市财政局预算绩效管理科联系。我们将根据各部门反馈的情况，进一步完善部门整体支出绩效自评的指标体系和评分规则，逐步建立全方位、全过程、全覆盖的预算绩效管理体系，推动财政资源配置更加科学合理，财政资金使用更加规范高效，更好发挥财政在国家治理中的基础和重要支柱作用。",
    ]),
    "attachments": [
        {"name": "部门整体支出绩效自评表", "title": "", "body": ""},
        {"name": "部门整体支出绩效自评报告提纲", "title": "", "body": "一、部门基本情况\n简要说明部门职能、机构设置和年度预算安排情况。\n二、绩效目标完成情况\n逐项说明产出指标和效益指标的完成情况。"},
    ],
    "signature": [],
    "seal": True,
    "date": dt.date(2024, 2, 26),
    "annotation": "（联系人：王明，联系电话：0000-1234567）",
    "imprint": {"cc": ["市审计局", "市人大常委会预算工作委员会"], "printed_by": "江夏市财政局办公室", "printed_on": dt.date(2024, 2, 27)},
}

# One long body paragraph without punctuation or Latin text: every full line is 28 characters.
FULL_PAGE_TEXT = "预算绩效管理贯穿预算编制执行监督全过程" * 60


@pytest.fixture(scope="session")
def settings():
    return defaults()


@pytest.fixture
def notice_data():
    return copy.deepcopy(NOTICE)


def make_doc(settings, kind: str = "notice", **changes):
    """A model Document from the two-page 通知 with some fields changed."""
    data = copy.deepcopy(NOTICE)
    data.update(changes)
    return build(kind, data, settings)


@pytest.fixture
def notice(settings):
    return make_doc(settings)


@pytest.fixture
def letter(settings):
    return make_doc(settings, "letter", format="letter", mark_suffix="", title="江夏市财政局关于商请提供绩效评价专家名单的函",
                    attachments=[], imprint={"cc": ["市审计局"], "printed_by": "", "printed_on": None})


@pytest.fixture
def upward(settings):
    return make_doc(settings, "request", direction="upward", signers=["王明", "李强", "赵敏"], addressees=["江夏市人民政府"],
                    title="江夏市财政局关于申请追加绩效评价工作经费的请示", urgency="", copy_number="")


@pytest.fixture
def joint(settings):
    return make_doc(settings, joint_issuers=["江夏市审计局"], party_style=False)


@pytest.fixture
def party(settings):
    return make_doc(settings, issuer="中共江夏市委", party_style=True, doc_number="江委发〔2024〕3号")
