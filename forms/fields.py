"""Shared marshmallow fields: clean text, money, percentages, dates, 发文字号, lists of organs.

Every user-facing message is a class attribute (`default_error_messages`) in Chinese so there is
one place to read, translate and assert on. Fields return plain Python values (str, Decimal,
datetime.date, list) — never float.
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields

from rules.amounts import AmountError, parse_amount
from rules.amounts import message as amount_message
from rules.formatting import chinese_ymd
from rules.rounding import AMOUNT_LIMIT, to_decimal

# XML 1.0 allows TAB, LF, CR and U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF. Anything else
# (C0 controls, lone surrogates, U+FFFE/U+FFFF) would corrupt a docx — docxtpl's recovering parser
# silently drops the rest of the body after one — so it is refused here, at the schema.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def illegal_xml_char(text: str) -> str | None:
    """The first character that XML 1.0 forbids, or None."""
    match = _ILLEGAL_XML.search(text)
    return match.group() if match else None


class Text(fields.String):
    """Trimmed text that XML can carry, with a bounded length.

    `multiline` keeps line breaks (normalised to LF); otherwise they are refused.
    """

    default_error_messages = {
        "invalid": "请输入文字。",
        "illegal_char": "含有不能写入文档的字符（U+{code:04X}，控制字符或无效字符），请删除后重新输入。",
        "too_long": "不能超过{max}个字（现有{length}个）。",
        "newline": "不能换行。",
        "blank": "不能为空。",
    }

    def __init__(self, *, max_length: int = 200, multiline: bool = False, allow_blank: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline
        self.allow_blank = allow_blank

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        bad = illegal_xml_char(text)
        if bad is not None:
            raise self.make_error("illegal_char", code=ord(bad))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.multiline:
            text = "\n".join(line.rstrip() for line in text.strip().split("\n"))
        else:
            text = text.strip()
            if "\n" in text:
                raise self.make_error("newline")
        if not text and not self.allow_blank:
            raise self.make_error("blank")
        if len(text) > self.max_length:
            raise self.make_error("too_long", max=self.max_length, length=len(text))
        return text


class TextList(fields.List):
    """A list of short texts (主送机关, 签发人, 抄送…): blanks dropped, duplicates refused."""

    default_error_messages = {
        "invalid": "请输入一组文字。",
        "duplicate": "“{item}”重复了。",
        "too_many": "最多{max}项。",
    }

    def __init__(self, *, max_items: int = 50, item_length: int = 100, **kwargs):
        super().__init__(Text(max_length=item_length, allow_blank=True), **kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):  # the HTML form and CSV send one item per line
            value = value.splitlines()
        items = [v for v in super()._deserialize(value, attr, data, **kwargs) if v]
        if len(items) > self.max_items:
            raise self.make_error("too_many", max=self.max_items)
        seen = set()
        for item in items:
            if item in seen:
                raise self.make_error("duplicate", item=item)
            seen.add(item)
        return items


class Money(fields.Field):
    """An amount (万元 unless the form says 元) as Decimal with at most 2 decimals.

    Accepts a JSON number given as a string or an integer, and "1,234.56". A string is read by
    rules.amounts.parse_amount, the one rule for what an amount may look like: a comma only as a
    thousands separator in groups of three, no decimal comma, no unit after the number; a refusal
    names the field and quotes what was read. A JSON float is accepted only when its shortest repr
    has at most 2 decimals, because json.loads already made it a float and refusing every JSON
    number would be hostile; NaN and infinities are refused.
    """

    default_error_messages = {
        "invalid": "请输入金额数字，例如 1234.56。",
        "places": "金额最多保留两位小数。",
        "negative": "金额不能为负数。",
        "too_large": "金额过大（不能超过10万亿）。",
    }
    LIMIT = AMOUNT_LIMIT

    def __init__(self, *, allow_negative: bool = False, places: int = 2, unit: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.allow_negative = allow_negative
        self.places = places
        label = str(self.metadata.get("label") or "")
        found = re.search(r"（(万元|元)）", label)
        self.unit = unit or (found.group(1) if found else "万元")

    @property
    def label(self) -> str:
        return str(self.metadata.get("label") or self.name or "金额")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            value = repr(value)
        if isinstance(value, str):
            if not value.strip():
                raise self.make_error("invalid")
            try:
                value = parse_amount(value)
            except AmountError as exc:
                raise self.refused(exc) from None
        try:
            amount = to_decimal(value)
        except (TypeError, ValueError, InvalidOperation) as exc:
            raise self.make_error("invalid") from exc
        if abs(amount) >= self.LIMIT:
            raise self.make_error("too_large")
        if amount.as_tuple().exponent < -self.places and amount != amount.quantize(Decimal(1).scaleb(-self.places)):
            raise self.make_error("places")
        if amount < 0 and not self.allow_negative:
            raise self.make_error("negative")
        return amount.quantize(Decimal(1).scaleb(-self.places))

    def refused(self, error: AmountError) -> ValidationError:
        return ValidationError(amount_message(error, self.label, self.unit))

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class Score(Money):
    """A score or weight in points, 0–100 by default, at most 2 decimals."""

    default_error_messages = {
        "invalid": "请输入分数，例如 8.5。",
        "places": "分数最多保留两位小数。",
        "negative": "分数不能为负数。",
        "range": "分数应在{low}到{high}之间。",
    }

    def __init__(self, *, low: Decimal = Decimal(0), high: Decimal = Decimal(100), **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def refused(self, error: AmountError) -> ValidationError:
        return self.make_error("invalid")

    def _deserialize(self, value, attr, data, **kwargs):
        score = super()._deserialize(value, attr, data, **kwargs)
        if not self.low <= score <= self.high:
            raise self.make_error("range", low=self.low, high=self.high)
        return score


class ChineseDate(fields.Field):
    """A real date written ISO (2024-07-01) or as 成文日期 (2024年7月1日).

    GB/T 9704-2012 7.3.5.4 writes dates in Arabic numerals without zero padding, so
    “2024年07月01日” and Chinese numerals (二〇二四年) are refused with the right form shown.
    """

    default_error_messages = {
        "invalid": "日期格式不对：请写成“2024年7月1日”或“2024-07-01”。",
        "padded": "日期不要补零：请写成“{suggest}”。",
        "chinese_numerals": "日期请用阿拉伯数字：请写成“2024年7月1日”的形式。",
        "not_real": "不存在这一天：{text}。",
        "range": "年份应在2000年到2100年之间。",
    }
    _ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
    _CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, _dt.date):
            parsed = value
        elif isinstance(value, str):
            text = value.strip().translate(_FULLWIDTH_DIGITS)
            if re.search("[〇零一二三四五六七八九十]", text):
                raise self.make_error("chinese_numerals")
            iso, cn = self._ISO.match(text), self._CN.match(text)
            match = iso or cn
            if not match:
                raise self.make_error("invalid")
            y, m, d = (int(g) for g in match.groups())
            if cn and (match.group(2).startswith("0") or match.group(3).startswith("0")):
                raise self.make_error("padded", suggest=chinese_ymd(y, m, d))
            try:
                parsed = _dt.date(y, m, d)
            except ValueError as exc:
                raise self.make_error("not_real", text=text) from exc
        else:
            raise self.make_error("invalid")
        if not 2000 <= parsed.year <= 2100:
            raise self.make_error("range")
        return parsed

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


DOC_NUMBER = re.compile(r"^(?P<code>[^\s〔〕\[\]（）()]{1,20})〔(?P<year>\d{4})〕(?P<serial>[1-9]\d{0,5})号$")


class DocNumber(Text):
    """发文字号: 机关代字〔YYYY〕N号 (7.2.5): 六角括号, full year, no leading zeros, no 第."""

    default_error_messages = {
        "format": "发文字号应写成“机关代字〔年份〕序号号”，例如“某财绩〔2024〕12号”。",
        "brackets": "年份要用六角括号〔〕，不能用[]、（）或【】：例如“{suggest}”。",
        "di": "发文字号的序号前不加“第”：例如“{suggest}”。",
        "zeros": "发文字号的序号不编虚位（不补零）：例如“{suggest}”。",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text and self.allow_blank:
            return text
        text = text.translate(_FULLWIDTH_DIGITS)
        loose = re.match(r"^(.+?)[\[（(【〔](\d{4})[\]）)】〕]\s*(第?)\s*(\d+)\s*号$", text)
        if DOC_NUMBER.match(text):
            return text
        if re.search(r"〔\d{4}〕0+号$", text):
            raise self.make_error("format")
        if loose:
            code, year, di, serial = loose.groups()
            suggest = f"{code}〔{year}〕{int(serial)}号"
            if not re.search(r"〔\d{4}〕", text):
                raise self.make_error("brackets", suggest=suggest)
            if di:
                raise self.make_error("di", suggest=suggest)
            if serial.startswith("0"):
                raise self.make_error("zeros", suggest=suggest)
        raise self.make_error("format")


def split_doc_number(text: str) -> dict:
    """“某财绩〔2024〕12号” → {'issuer_code': '某财绩', 'year': 2024, 'serial': 12}."""
    match = DOC_NUMBER.match(text)
    if not match:
        raise ValidationError("发文字号格式不对。")
    return {"issuer_code": match["code"], "year": int(match["year"]), "serial": int(match["serial"])}
