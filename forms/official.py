"""Schemas of the 公文 kinds: 请示 (request), 报告 (report), 意见 (opinion), 通知 (notice), 函 (letter).

One schema, `OfficialDocumentSchema`, holds the elements of 《党政机关公文处理工作条例》第九条; each
kind is a subclass that fixes its defaults and adds the rules of its 文种 (a 请示 has one 主送机关,
names its 签发人 and gives a contact in the 附注; a 报告 carries no request; …). The rules read
bureau settings (rules/defaults/official.toml) so a bureau can relax a convention without code.
"""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from forms.base import BaseSchema, SettingsSchema
from forms.fields import ChineseDate, DocNumber, Text, TextList
from rules.organs import split_organs

DIRECTIONS = {"upward": "上行文", "downward": "下行文", "parallel": "平行文"}


class AttachmentSchema(BaseSchema):
    name = Text(required=True, max_length=100, metadata={"label": "附件名称"})
    title = Text(load_default="", allow_blank=True, max_length=100, multiline=True, metadata={"label": "附件标题（默认同名称）"})
    body = Text(load_default="", allow_blank=True, max_length=50000, multiline=True, metadata={"label": "附件正文（随文装订时填写）"})


class ImprintSchema(BaseSchema):
    cc = TextList(load_default=list, max_items=30, metadata={"label": "抄送机关"})
    printed_by = Text(load_default="", allow_blank=True, max_length=40, metadata={"label": "印发机关"})
    printed_on = ChineseDate(load_default=None, allow_none=True, metadata={"label": "印发日期"})


class OfficialDocumentSchema(SettingsSchema):
    """Fields shared by every 公文 kind (identifiers from the glossary)."""

    kind = "official_document"
    format = "file"

    copy_number = Text(load_default="", allow_blank=True, max_length=20,
                       validate=validate.Regexp(r"^(\d{6})?$", error="份号应为6位阿拉伯数字，例如“000123”。"),
                       metadata={"label": "份号", "group": "版头"})
    classification = Text(load_default="", allow_blank=True, max_length=20,
                          validate=validate.Regexp(r"^((秘密|机密|绝密)(★\d{1,2}年)?)?$",
                                                   error="密级应为“秘密”“机密”或“绝密”，可加保密期限，例如“秘密★1年”。"),
                          metadata={"label": "密级和保密期限", "group": "版头"})
    urgency = Text(load_default="", allow_blank=True, max_length=4,
                   validate=validate.OneOf(["", "特急", "加急"], error="紧急程度只能是“特急”或“加急”，不紧急请留空。"),
                   metadata={"label": "紧急程度", "group": "版头"})
    issuer = Text(required=True, max_length=40, metadata={"label": "发文机关", "group": "版头"})
    joint_issuers = TextList(load_default=list, max_items=5, item_length=40,
                             metadata={"label": "联合发文机关（主办机关之外，每行一个）", "group": "版头"})
    issuer_mark = Text(load_default="", allow_blank=True, max_length=80, multiline=True,
                       metadata={"label": "发文机关标志（默认用发文机关名称）", "group": "版头"})
    mark_suffix = Text(load_default="文件", allow_blank=True, max_length=2,
                       validate=validate.OneOf(["文件", ""], error="标志后缀只能是“文件”或留空。"),
                       metadata={"label": "标志后加“文件”", "group": "版头"})
    party_style = fields.Boolean(load_default=False, metadata={"label": "党委机关版式（分隔线中加五角星）", "group": "版头"})
    doc_number = DocNumber(required=True, metadata={"label": "发文字号", "group": "版头"})
    direction = Text(load_default="", allow_blank=True,
                     validate=validate.OneOf(["", *DIRECTIONS], error="行文方向只能是上行文、下行文或平行文。"),
                     metadata={"label": "行文方向", "group": "版头", "choices": DIRECTIONS})
    signers = TextList(load_default=list, max_items=10, item_length=20, metadata={"label": "签发人（上行文，每行一人）", "group": "版头"})

    title = Text(required=True, max_length=120, multiline=True, metadata={"label": "标题", "group": "主体"})
    title_note = Text(load_default="", allow_blank=True, max_length=60, metadata={"label": "题注（标题下的日期说明，可留空）", "group": "主体"})
    addressees = TextList(load_default=list, max_items=40, item_length=60, metadata={"label": "主送机关（每行一个）", "group": "主体"})
    body = Text(required=True, max_length=50000, multiline=True, metadata={"label": "正文", "group": "主体", "widget": "textarea"})
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list,
                              validate=validate.Length(max=20, error="附件最多20个。"),
                              metadata={"label": "附件", "group": "主体"})
    signature = TextList(load_default=list, max_items=6, item_length=40, metadata={"label": "发文机关署名（默认同发文机关）", "group": "主体"})
    seal = fields.Boolean(load_default=True, metadata={"label": "加盖印章", "group": "主体"})
    # A document adopted at a meeting, whose 题注 gives the date and the adopting body, often has no
    # 落款 (reference A.8: a per-document choice, not a default).
    no_signature = fields.Boolean(load_default=False,
                                  metadata={"label": "不署名、不标成文日期（题注已载明日期和机关）", "group": "主体"})
    date = ChineseDate(required=True, metadata={"label": "成文日期", "group": "主体"})
    annotation = Text(load_default="", allow_blank=True, max_length=200, metadata={"label": "附注（如联系人及电话）", "group": "主体"})
    imprint = fields.Nested(ImprintSchema, load_default=dict, metadata={"label": "版记", "group": "版记"})

    # --- rules of the 文种 -------------------------------------------------------------------
    def official_settings(self):
        return self.settings["official"]

    @validates_schema(skip_on_field_errors=False)
    def _check_title(self, data, **kwargs):
        endings = self.official_settings()["titles"].get(self.kind)
        title = data.get("title", "").replace("\n", "")
        if endings and title and not title.endswith(tuple(endings)):
            example = "”或“".join(endings)
            raise ValidationError(f"标题应以文种“{example}”结尾，例如“关于……的{endings[0]}”。", "title")

    @validates_schema(skip_on_field_errors=False)
    def _check_no_signature(self, data, **kwargs):
        if not data.get("no_signature"):
            return
        if not (data.get("title_note") or "").strip():
            raise ValidationError("只有带题注（载明日期和机关）的文件才能不署名、不标成文日期；请先填写题注。", "no_signature")
        if data.get("seal", True):
            raise ValidationError("不署名的文件没有盖印的位置；请取消“加盖印章”，或取消“不署名”。", "seal")

    @validates_schema(skip_on_field_errors=False)
    def _check_joint(self, data, **kwargs):
        if data.get("issuer") and data.get("issuer") in data.get("joint_issuers", []):
            raise ValidationError("联合发文机关不要重复填写主办机关。", "joint_issuers")

    def effective_direction(self, data) -> str:
        return data.get("direction") or self.official_settings()["defaults"].get(self.kind, "downward")

    @validates_schema(skip_on_field_errors=False)
    def _check_signers(self, data, **kwargs):
        # 第九条: an upward document names its 签发人.
        if self.official_settings()["upward_requires_signers"] and self.effective_direction(data) == "upward":
            if not data.get("signers"):
                raise ValidationError("上行文应当标注签发人姓名。", "signers")

    @post_load
    def _fill_defaults(self, data, **kwargs):
        data["format"] = self.format
        data["direction"] = self.effective_direction(data)
        imprint = data.setdefault("imprint", {})
        imprint.setdefault("cc", [])
        imprint.setdefault("printed_by", "")
        if imprint.get("printed_on") is None and imprint.get("printed_by"):
            imprint["printed_on"] = data["date"]
        else:
            imprint.setdefault("printed_on", None)
        return data


def _contains_any(text: str, phrases) -> str | None:
    """The first phrase used as a request in `text`. “报请审批”“提请批准” describe a procedure, not a
    request to the reader, so a phrase preceded by 报/提/呈/申 does not count."""
    squashed = re.sub(r"\s+", "", text).replace(",", "，")
    for phrase in phrases:
        if re.search(r"(?<![报提呈申])" + re.escape(phrase), squashed):
            return phrase
    return None


class RequestSchema(OfficialDocumentSchema):
    """请示: asks a higher organ for instructions or approval (条例 第八条, 第十五条)."""

    kind = "request"

    @validates_schema(skip_on_field_errors=False)
    def _check_request(self, data, **kwargs):
        rules = self.official_settings()["request"]
        errors: dict[str, list[str]] = {}
        addressees = data.get("addressees", [])
        if rules["single_addressee"]:
            if len(addressees) != 1:
                errors["addressees"] = ["请示只能主送一个上级机关（一文一事、主送一个机关），其他机关请列入抄送。"]
            else:
                organs = split_organs(addressees[0], self.settings)
                if len(organs) > 1:
                    errors["addressees"] = [
                        f"请示只能主送一个上级机关：“{addressees[0]}”是{len(organs)}个机关（{'；'.join(organs)}），"
                        "请只保留一个（如“{0}”），其他机关列入抄送。".format(organs[-1])]
        annotation = data.get("annotation", "")
        if rules["require_contact_annotation"] and not ("联系人" in annotation and "电话" in annotation):
            errors["annotation"] = ["请示应在附注中注明联系人和联系电话，例如“联系人：王明，联系电话：0000-1234567”。"]
        last = (data.get("body") or "").strip().splitlines()[-1:] or [""]
        if rules["require_closing"] and data.get("body") and not _contains_any(last[0], rules["closing_phrases"]):
            errors["body"] = ["请示正文应以请示语结尾，例如“妥否，请批示。”"]
        if data.get("direction") not in (None, "", "upward"):
            errors["direction"] = ["请示是上行文，行文方向只能是“上行文”。"]
        if errors:
            raise ValidationError(errors)


class ReportSchema(OfficialDocumentSchema):
    """报告 (also 工作情况说明, 总结报告, 汇报): reports work; must not carry requests."""

    kind = "report"

    @validates_schema(skip_on_field_errors=False)
    def _check_report(self, data, **kwargs):
        rules = self.official_settings()["report"]
        errors: dict[str, list[str]] = {}
        if not data.get("addressees"):
            errors["addressees"] = ["请填写主送机关。"]
        phrase = _contains_any(data.get("body", ""), rules["forbidden_phrases"])
        if phrase:
            errors["body"] = [f"报告中不得夹带请示事项：请删去“{phrase}”，需要批示的事项请另行请示。"]
        if errors:
            raise ValidationError(errors)


class OpinionSchema(OfficialDocumentSchema):
    """意见 / 实施意见: views and measures on an important matter; up, down or sideways."""

    kind = "opinion"


class NoticeSchema(OfficialDocumentSchema):
    """通知: issues, forwards or announces; addressed to the organs that must act."""

    kind = "notice"

    @validates_schema(skip_on_field_errors=False)
    def _check_notice(self, data, **kwargs):
        if not data.get("addressees"):
            raise ValidationError("请填写主送机关。", "addressees")


class LetterSchema(OfficialDocumentSchema):
    """函, laid out in 信函格式 (GB/T 9704-2012 10.1): no 文件, no 印发机关 and 印发日期."""

    kind = "letter"
    format = "letter"

    @validates_schema(skip_on_field_errors=False)
    def _check_letter(self, data, **kwargs):
        if not data.get("addressees"):
            raise ValidationError("请填写主送机关。", "addressees")

    @validates_schema(skip_on_field_errors=False)
    def _letter_imprint(self, data, **kwargs):
        imprint = data.get("imprint") or {}
        if imprint.get("printed_by") or imprint.get("printed_on"):
            raise ValidationError("函（信函格式）的版记不标印发机关和印发日期，请留空。", "imprint")

    @post_load
    def _letter_format(self, data, **kwargs):
        data["mark_suffix"] = ""
        return data
