"""Schemas of the evaluation reports, the 事前绩效评估报告 and the 结果应用 table.

* self_evaluation_report — 项目支出绩效自评报告: the 自评表 itself (nested, validated and scored by
  the same rules) plus the unit's narrative per section.
* evaluation_report — 项目支出绩效评价报告 (财预〔2020〕10号 附件3 outline) with the scores of the
  指标体系框架 (附件2, a data file), and department_evaluation_report — 部门整体支出绩效评价报告
  (财预〔2013〕53号 or a local framework file).
* ex_ante_assessment — 事前绩效评估报告: the five dimensions of the ex-ante framework, the scores
  and the conclusion (computed from configurable thresholds), the requested and recommended funds.
* result_application — 评价结果应用表: per project the score, finding and the adjustment of next
  year's budget.

Reports are laid out either plain (an attachment a unit files: title, text, signature) or, when
`official` is given, as a red-header 报告 (GB/T 9704) sent upward.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import ChineseDate, DocNumber, Money, Score, Text, TextList
from forms.official import ImprintSchema
from forms.self_evaluation import SelfEvaluationSchema
from rules.frameworks import KINDS, FrameworkError, load_framework, validate_framework_scores
from rules.result_application import ACTIONS, action_key, validate_application_row
from rules.scoring import points_text


def _narrative(label: str, required: bool = True, **kwargs) -> Text:
    if required:
        return Text(required=True, max_length=20000, multiline=True, metadata={"label": label, "widget": "textarea"}, **kwargs)
    return Text(load_default="", allow_blank=True, max_length=20000, multiline=True,
                metadata={"label": label, "widget": "textarea"}, **kwargs)


class ReportOfficialSchema(BaseSchema):
    """The 版头 and 版记 of a report sent upward as a red-header 报告 (omit for a plain layout)."""

    issuer = Text(required=True, max_length=40, metadata={"label": "发文机关"})
    doc_number = DocNumber(required=True, metadata={"label": "发文字号"})
    signers = TextList(load_default=list, max_items=10, item_length=20, metadata={"label": "签发人"})
    addressees = TextList(required=True, max_items=10, item_length=60, metadata={"label": "主送机关"})
    seal = fields.Boolean(load_default=True, metadata={"label": "加盖印章"})
    annotation = Text(load_default="", allow_blank=True, max_length=200, metadata={"label": "附注"})
    imprint = fields.Nested(ImprintSchema, load_default=dict, metadata={"label": "版记"})

    @validates_schema(skip_on_field_errors=False)
    def _check_signers(self, data, **kwargs):
        if not data.get("signers"):  # 第九条: an upward document names its 签发人
            raise ValidationError("上行文应当标注签发人姓名。", "signers")


class ReportBaseSchema(SettingsSchema):
    """Title, author, date and the optional 公文 frame shared by every report."""

    title = Text(required=True, max_length=120, multiline=True, metadata={"label": "报告标题"})
    author = Text(required=True, max_length=60, metadata={"label": "报告单位（署名）"})
    date = ChineseDate(required=True, metadata={"label": "报告日期"})
    official = fields.Nested(ReportOfficialSchema, load_default=None, allow_none=True,
                             metadata={"label": "以公文（报告）形式上报时填写"})

    @validates_schema(skip_on_field_errors=False)
    def _check_title(self, data, **kwargs):
        title = (data.get("title") or "").replace("\n", "")
        if data.get("official") and title and not title.endswith("报告"):
            raise ValidationError("以公文形式上报的报告，标题应以“报告”结尾。", "title")


# --------------------------------------------------------------------------- 自评报告

class SelfEvaluationReportSectionsSchema(BaseSchema):
    overview = _narrative("项目概况（立项背景、主要内容、资金安排和使用）")
    process = _narrative("绩效自评工作开展情况")
    conclusion = _narrative("综合评价结论（补充说明）", required=False)
    funds = _narrative("项目资金使用情况分析（补充说明）", required=False)
    output = _narrative("产出指标完成情况分析")
    benefit = _narrative("效益指标完成情况分析")
    satisfaction = _narrative("满意度指标完成情况分析")
    problems = _narrative("存在的问题及原因分析")
    measures = _narrative("下一步改进措施")
    other = _narrative("其他需要说明的问题", required=False)


class SelfEvaluationReportSchema(ReportBaseSchema):
    """项目支出绩效自评报告: the 自评表 (`form`, scored by the same rules) and the narrative."""

    form = fields.Nested(SelfEvaluationSchema, required=True, metadata={"label": "项目支出绩效自评表"})
    sections = fields.Nested(SelfEvaluationReportSectionsSchema, required=True, metadata={"label": "报告正文"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The nested 自评表 is validated with this request's settings (weights, bands), not the defaults.
        self.fields["form"].nested = SelfEvaluationSchema(settings=self.settings)
        self.fields["form"]._schema = None


# --------------------------------------------------------------------------- 框架评分 (评价报告, 事前评估)

class FrameworkScoredSchema(ReportBaseSchema):
    """A report scored on a framework data file: `framework` names the file (default from
    settings scoring.frameworks.<framework_kind>), `scores` maps leaf codes ("1.2.1") to points,
    `analysis` holds the narrative of each first-level dimension, keyed by its name."""

    framework_kind = "project_evaluation"

    framework = Text(load_default="", allow_blank=True, max_length=60, metadata={"label": "指标体系框架（留空用默认）"})
    variant = Text(load_default="", allow_blank=True, max_length=30, metadata={"label": "框架变体（如 policy）"})
    # Values are checked against each item's points by rules.frameworks (range, number, every
    # leaf scored), so the field takes them as given: one message per item, naming the item.
    scores = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                         metadata={"label": "各末级指标得分（分值范围内）"})
    remarks = fields.Dict(keys=fields.String(), values=Text(max_length=500, multiline=True, allow_blank=True),
                          load_default=dict, metadata={"label": "评分说明（按指标编码）"})
    analysis = fields.Dict(keys=fields.String(), values=Text(max_length=20000, multiline=True), required=True,
                           metadata={"label": "各一级指标分析（按一级指标名称）"})

    def entries(self, key: str, data) -> list[tuple[str, str, str]]:
        """The keyed inputs the web form shows for the dict field `key` of the named framework:
        (key, label, widget) per 末级指标 for scores and remarks, per 一级指标 for analysis."""
        try:
            framework = self.load_framework_for(data if isinstance(data, dict) else {})
        except ValidationError:
            framework = self.load_framework_for({})
        if key == "analysis":
            return [(item.name, f"{item.name}", "textarea") for item in framework.items]
        leaves = framework.leaves()
        if key == "scores":
            return [(leaf.code, f"{leaf.code} {leaf.name}（{points_text(leaf.points)}分）", "score") for leaf in leaves]
        return [(leaf.code, f"{leaf.code} {leaf.name}", "text") for leaf in leaves]

    def load_framework_for(self, data):
        """The Framework the data names, or a ValidationError naming the field."""
        name = data.get("framework") or None
        try:
            return load_framework(name, kind=None if name else self.framework_kind,
                                  variant=data.get("variant") or None, settings=self.settings)
        except FileNotFoundError:
            raise ValidationError(f"找不到指标体系框架“{name}”。", "framework") from None
        except FrameworkError as exc:
            field = "variant" if set(exc.messages) == {"variants"} else "framework"
            raise ValidationError("；".join(m for ms in exc.messages.values() for m in ms), field) from None

    @validates_schema(skip_on_field_errors=False)
    def _check_framework(self, data, **kwargs):
        framework = self.load_framework_for(data)
        errors: dict[str, list[str]] = {}
        if framework.kind != self.framework_kind:
            errors["framework"] = [f"框架“{framework.title}”是{KINDS[framework.kind]}框架，"
                                   f"这里需要{KINDS[self.framework_kind]}框架。"]
            raise ValidationError(errors)
        if "scores" in data:
            errors.update(validate_framework_scores(framework, data["scores"]))
        if "analysis" in data:
            names = [item.name for item in framework.items]
            for name in names:
                if not (data["analysis"].get(name) or "").strip():
                    errors.setdefault(f"analysis.{name}", []).append(f"请填写“{name}”的分析。")
            for name in data["analysis"]:
                if name not in names:
                    errors.setdefault(f"analysis.{name}", []).append(
                        f"框架中没有一级指标“{name}”，应为{'、'.join(names)}。")
        for code in data.get("remarks") or {}:
            if code not in {leaf.code for leaf in framework.walk()}:
                errors.setdefault(f"remarks.{code}", []).append(f"框架中没有指标“{code}”。")
        if errors:
            raise ValidationError(errors)


class EvaluationBudgetSchema(BaseSchema):
    adjusted_budget = Money(required=True, metadata={"label": "预算数（万元）"})
    executed = Money(required=True, metadata={"label": "执行数（万元）"})


class EvaluationReportSectionsSchema(BaseSchema):
    overview = _narrative("概况（背景、主要内容及实施情况、资金投入和使用情况）")
    goals = _narrative("绩效目标（总体目标和阶段性目标）")
    scope = _narrative("评价目的、对象和范围")
    method = _narrative("评价原则、评价指标体系、评价方法、评价标准")
    process = _narrative("评价工作过程")
    conclusion = _narrative("综合评价情况及评价结论")
    experience = _narrative("主要经验及做法、存在的问题及原因分析")
    suggestions = _narrative("有关建议")
    other = _narrative("其他需要说明的问题", required=False)


EVALUATION_TYPES = {"department_evaluation": "部门评价", "finance_evaluation": "财政评价",
                    "key_evaluation": "重点评价"}


class EvaluationReportSchema(FrameworkScoredSchema):
    """项目支出绩效评价报告 (财预〔2020〕10号 附件3)."""

    framework_kind = "project_evaluation"

    project_name = Text(required=True, max_length=100, metadata={"label": "项目名称"})
    department = Text(required=True, max_length=60, metadata={"label": "主管部门"})
    implementing_unit = Text(load_default="", allow_blank=True, max_length=60, metadata={"label": "实施单位"})
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "评价年度"})
    evaluation_type = Text(load_default="finance_evaluation",
                           validate=validate.OneOf(list(EVALUATION_TYPES), error="评价类型应为部门评价、财政评价或重点评价。"),
                           metadata={"label": "评价类型", "choices": EVALUATION_TYPES})
    evaluator = Text(required=True, max_length=60, metadata={"label": "评价机构"})
    budget = fields.Nested(EvaluationBudgetSchema, required=True, metadata={"label": "项目资金"})
    sections = fields.Nested(EvaluationReportSectionsSchema, required=True, metadata={"label": "报告正文"})


class DepartmentEvaluationReportSchema(FrameworkScoredSchema):
    """部门整体支出绩效评价报告 (framework 财预〔2013〕53号 by default, or a local file)."""

    framework_kind = "department_evaluation"

    unit = Text(required=True, max_length=60, metadata={"label": "被评价部门（单位）"})
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "评价年度"})
    evaluation_type = Text(load_default="finance_evaluation",
                           validate=validate.OneOf(list(EVALUATION_TYPES), error="评价类型应为部门评价、财政评价或重点评价。"),
                           metadata={"label": "评价类型", "choices": EVALUATION_TYPES})
    evaluator = Text(required=True, max_length=60, metadata={"label": "评价机构"})
    budget = fields.Nested(EvaluationBudgetSchema, required=True, metadata={"label": "部门预算资金"})
    sections = fields.Nested(EvaluationReportSectionsSchema, required=True, metadata={"label": "报告正文"})


# --------------------------------------------------------------------------- 事前绩效评估

class ExAnteSectionsSchema(BaseSchema):
    background = _narrative("立项背景")
    content = _narrative("主要内容")
    targets = _narrative("绩效目标")
    funding = _narrative("资金构成（补充说明）", required=False)
    purpose = _narrative("评估目的及对象")
    method = _narrative("评估思路及方法")
    process = _narrative("评估工作程序")
    conclusion = _narrative("总体结论（补充说明）", required=False)
    suggestions = _narrative("相关建议")
    other = _narrative("其他需要说明的问题", required=False)


class ExAnteAssessmentSchema(FrameworkScoredSchema):
    """事前绩效评估报告: five dimensions (立项必要性, 投入经济性, 绩效目标合理性, 实施方案可行性,
    筹资合规性, or their policy variants) scored on the ex-ante framework; the conclusion comes
    from settings scoring.ex_ante."""

    framework_kind = "ex_ante_assessment"

    project_name = Text(required=True, max_length=100, metadata={"label": "项目（政策）名称"})
    department = Text(required=True, max_length=60, metadata={"label": "申报单位（主管部门）"})
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "申报预算年度"})
    assessor = Text(required=True, max_length=60, metadata={"label": "评估机构"})
    requested_amount = Money(required=True, metadata={"label": "申报资金（万元）"})
    recommended_amount = Money(load_default=None, allow_none=True, metadata={"label": "建议安排资金（万元）"})
    sections = fields.Nested(ExAnteSectionsSchema, required=True, metadata={"label": "报告正文"})

    @validates_schema(skip_on_field_errors=False)
    def _check_amounts(self, data, **kwargs):
        requested, recommended = data.get("requested_amount"), data.get("recommended_amount")
        if requested is not None and recommended is not None and recommended > requested:
            raise ValidationError(f"建议安排资金（{recommended}万元）不能超过申报资金（{requested}万元）。",
                                  "recommended_amount")


# --------------------------------------------------------------------------- 结果应用

def _known_action(value: str) -> None:
    if action_key(value) is None:
        raise ValidationError("应用方式应为调减、取消、优先保障或维持。")


class ResultApplicationRowSchema(BaseSchema):
    project_name = Text(required=True, max_length=100, metadata={"label": "项目名称"})
    department = Text(required=True, max_length=60, metadata={"label": "主管部门"})
    evaluation_type = Text(load_default="finance_evaluation",
                           validate=validate.OneOf([*EVALUATION_TYPES, "self_evaluation"],
                                                   error="评价方式应为单位自评、部门评价、财政评价或重点评价。"),
                           metadata={"label": "评价方式"})
    score = Score(required=True, metadata={"label": "评价得分"})
    finding = Text(required=True, max_length=300, multiline=True, metadata={"label": "主要问题（评价发现）"})
    current_budget = Money(required=True, metadata={"label": "本年预算数（万元）"})
    action = Text(required=True, validate=_known_action, metadata={"label": "应用方式", "choices": ACTIONS})
    amount = Money(load_default=None, allow_none=True, metadata={"label": "调整金额（万元）"})

    @post_load
    def _action_key(self, data, **kwargs):
        data["action"] = action_key(data["action"])
        return data


class ResultApplicationSchema(SettingsSchema):
    """评价结果应用表: how each evaluated project's result changes next year's budget."""

    year = fields.Integer(required=True, validate=validate.Range(2000, 2100, error="年度应在2000年至2100年之间。"),
                          metadata={"label": "评价年度"})
    budget_year = fields.Integer(required=True, validate=validate.Range(2000, 2101, error="年度应在2000年至2101年之间。"),
                                 metadata={"label": "应用于预算年度"})
    finance_bureau = Text(required=True, max_length=60, metadata={"label": "财政部门"})
    rows = fields.List(fields.Nested(ResultApplicationRowSchema), required=True,
                       validate=validate.Length(min=1, max=500, error="应填写1至500个项目。"),
                       metadata={"label": "项目"})
    filled_by = Text(load_default="", allow_blank=True, max_length=20, metadata={"label": "填报人"})
    date = ChineseDate(load_default=None, allow_none=True, metadata={"label": "填报日期"})

    @validates_schema(skip_on_field_errors=False)
    def _check_rows(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        if data.get("year") and data.get("budget_year") and data["budget_year"] <= data["year"]:
            errors["budget_year"] = ["结果应用于评价年度之后的预算年度。"]
        for i, row in enumerate(data.get("rows") or []):
            for field, messages in validate_application_row(row, self.settings).items():
                errors[f"rows.{i}.{field}"] = messages
        if errors:
            raise ValidationError(errors)
