"""A realistic 项目支出绩效自评表 (财预〔2020〕10号 附件1 layout) as a grid Workbook, shared by the
table renderer and reader tests. Our own figures; the user text includes formula-looking input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from generators.grid import Cell, Column, Sheet, Workbook

HYPERLINK = '=HYPERLINK("http://evil.example/x","点我")'
INJECTIONS = {
    "implementer": HYPERLINK,
    "goals.actual": "＋1 超额完成",
    "indicators.0.deviation": "\t=1",
    "indicators.2.deviation": "@SUM(A1)",
    "indicators.3.deviation": "-2+3 <b>&amp;</b>",
}

CAUSES = ["经费保障", "制度保障", "人员保障", "硬件条件保障", "其他"]
# A list with commas and quotes cannot be written inline: it goes to the hidden sheet.
MEASURES = ["追加预算，调整进度", '按"两个确保"要求整改', "其他"]


def H(text, **kw):
    return Cell(text, "header", **kw)


def L(text, **kw):
    return Cell(text, "label", **kw)


def T(text, key=None, **kw):
    return Cell(text, "text", key=key, editable=key is not None, **kw)


def money(value, key=None):
    return Cell(D(value) if value is not None else None, "money", key=key, editable=key is not None)


def score(value, key=None):
    # scores are computed, never typed: locked even when they carry a key for import
    v = D(value) if isinstance(value, str) and value[:1].isdigit() else value
    return Cell(v, "score", key=key)


def pct(value):
    return Cell(D(value) if value is not None else None, "percent")


def self_evaluation_sheet(name: str = "自评表", protect: bool = True) -> Sheet:
    sheet = Sheet(
        name=name,
        columns=[Column(12), Column(10), Column(10), Column(20), Column(11), Column(11), Column(8), Column(9), Column(22)],
        title_rows=3,
        header_rows=2,
        landscape=True,
        protect=protect,
        notes=["填报说明：金额单位为万元，保留两位小数；执行率=全年执行数÷全年预算数。", "填报人：王明　　联系电话：0000-1234567"],
        validations={"causes": CAUSES, "measures": MEASURES},
        row_heights={0: 40},
    )
    sheet.add(Cell("项目支出绩效自评表", "title", colspan=9))
    sheet.add(Cell("（2024年度）", "subtitle", colspan=9))
    sheet.add(Cell("填报单位：江夏市教育局", "subtitle", colspan=5, align="left"), Cell("单位：万元", "subtitle", colspan=4, align="right"))
    # table rows start at index 3
    sheet.add(L("项目名称"), T("农村义务教育学生营养改善计划", "project_name", colspan=8))
    sheet.add(L("主管部门"), T("江夏市教育局", "department", colspan=3), L("实施单位"), T(HYPERLINK, "implementer", colspan=4))
    sheet.add(L("项目资金（万元）", rowspan=5), H("", colspan=2), H("年初预算数"), H("全年预算数"), H("全年执行数"), H("分值"), H("执行率"), H("得分"))
    sheet.add(L("年度资金总额", colspan=2), money("1200.00", "funds.total.initial"), money("1250.50", "funds.total.adjusted"),
              money("1187.30", "funds.total.executed"), score(D("10")), pct("0.949460"), score(D("9.49")))
    sheet.add(L("其中：当年财政拨款", colspan=2), money("1000", "funds.fiscal.initial"), money("1000"), money("980.25"),
              score("—"), pct("0.98025"), score("—"))
    sheet.add(L("　　上年结转资金", colspan=2), money("150.5"), money("200.5"), money("157.05"), score("—"), pct("0.7833"), score("—"))
    sheet.add(L("　　其他资金", colspan=2), money("49.5"), money("50"), money("50"), score("—"), pct("1"), score("—"))
    sheet.add(L("年度总体目标", rowspan=2), H("预期目标", colspan=4), H("实际完成情况", colspan=4))
    sheet.add(T("目标1：保障全市12000名农村学生在校午餐。\n目标2：供餐合格率100%。", "goals.expected", colspan=4),
              T(INJECTIONS["goals.actual"], "goals.actual", colspan=4))
    sheet.add(L("绩效指标", rowspan=7), H("一级指标"), H("二级指标"), H("三级指标"), H("年度指标值"), H("实际完成值"), H("分值"), H("得分"),
              H("偏差原因分析及改进措施"))
    sheet.add(L("产出指标(50分)", rowspan=3), L("数量指标"), T("受益学生人数"), T("≥12000人"), T("12350人", "indicators.0.actual"),
              score(D("20")), score(D("20")), Cell(INJECTIONS["indicators.0.deviation"], "text", key="indicators.0.deviation",
                                                   editable=True, validation="causes"))
    sheet.add(L("质量指标"), T("供餐合格率"), T("100%"), T("100%", "indicators.1.actual"), score(D("15")), score(D("15")),
              T("", "indicators.1.deviation"))
    sheet.add(L("时效指标"), T("资金拨付及时率"), T("≥95%"), T("90%", "indicators.2.actual"), score(D("15")), score(D("12.5")),
              Cell(INJECTIONS["indicators.2.deviation"], "text", key="indicators.2.deviation", editable=True, validation="measures"))
    sheet.add(L("效益指标(30分)", rowspan=2), L("社会效益指标", rowspan=2), T("学生营养状况改善"), T("明显改善"),
              T("有所改善", "indicators.3.actual"), score(D("15")), score(D("12")), T(INJECTIONS["indicators.3.deviation"], "indicators.3.deviation"))
    sheet.add(T("学生体质健康达标率提高"), T("≥2个百分点"), T("2.3个百分点", "indicators.4.actual"), score(D("15")), score(D("15")), T("—"))
    sheet.add(L("满意度指标(10分)"), L("服务对象满意度指标"), T("学生家长满意度"), T("≥90%"), pct("0.9317"), score(D("10")),
              score(D("10")), T(""))
    sheet.add(L("总分", colspan=6), score(D("100")), score(D("93.99"), "total_score"), T(""))
    sheet.add(L("填报日期"), Cell(dt.date(2024, 7, 1), "date", key="filled_on", editable=True, colspan=3), L("受益人数"),
              Cell(12350, "number", key="beneficiaries", editable=True, colspan=4))
    return sheet


def self_evaluation_workbook() -> Workbook:
    second = Sheet(name="资金明细", columns=[Column(20), Column(14), Column(14)], title_rows=1, header_rows=1)
    second.add(Cell("项目资金明细表", "title", colspan=3))
    second.add(H("资金来源"), H("金额"), H("占比"))
    second.add(T("财政拨款"), money("1000.00", "detail.fiscal"), pct("0.8"))
    second.add(T("其他资金"), money("250.5", "detail.other"), pct("0.2"))
    return Workbook(title="农村义务教育学生营养改善计划绩效自评表", sheets=[self_evaluation_sheet(), second],
                    meta={"unit": "江夏市教育局"})
