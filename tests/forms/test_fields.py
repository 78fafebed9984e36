"""The shared fields: exact values in, exact Chinese messages out."""

import datetime as dt
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from forms.base import BaseSchema, flatten_errors, illegal_characters
from forms.fields import ChineseDate, DocNumber, Money, Score, Text, TextList, split_doc_number


class S(BaseSchema):
    text = Text(load_default="", allow_blank=True, max_length=10)
    lines = Text(load_default="", allow_blank=True, multiline=True, max_length=100)
    items = TextList(load_default=list, max_items=3)
    amount = Money(load_default=None, metadata={"label": "全年执行数（万元）"})
    fee = Money(load_default=None, metadata={"label": "公用经费预算（元）"})
    score = Score(load_default=None)
    date = ChineseDate(load_default=None)
    number = DocNumber(load_default="", allow_blank=True)


def load(**kw):
    return S().load(kw)


def errors(**kw):
    with pytest.raises(ValidationError) as exc:
        S().load(kw)
    return flatten_errors(exc.value.messages)


@pytest.mark.parametrize("value, expected", [
    ("某财绩〔2024〕12号", "某财绩〔2024〕12号"),
    ("青财预〔2025〕1号", "青财预〔2025〕1号"),
    ("青发〔２０２４〕３号", "青发〔2024〕3号"),
])
def test_doc_number_accepted(value, expected):
    assert load(number=value)["number"] == expected


@pytest.mark.parametrize("value, message", [
    ("某财绩[2024]12号", "年份要用六角括号〔〕，不能用[]、（）或【】：例如“某财绩〔2024〕12号”。"),
    ("某财绩（2024）12号", "年份要用六角括号〔〕，不能用[]、（）或【】：例如“某财绩〔2024〕12号”。"),
    ("某财绩〔2024〕第12号", "发文字号的序号前不加“第”：例如“某财绩〔2024〕12号”。"),
    ("某财绩〔2024〕012号", "发文字号的序号不编虚位（不补零）：例如“某财绩〔2024〕12号”。"),
    ("某财绩2024-12", "发文字号应写成“机关代字〔年份〕序号号”，例如“某财绩〔2024〕12号”。"),
    ("〔2024〕12号", "发文字号应写成“机关代字〔年份〕序号号”，例如“某财绩〔2024〕12号”。"),
])
def test_doc_number_refused(value, message):
    assert errors(number=value) == {"number": [message]}


def test_split_doc_number():
    assert split_doc_number("某财绩〔2024〕12号") == {"issuer_code": "某财绩", "year": 2024, "serial": 12}


@pytest.mark.parametrize("value, expected", [
    ("2024-07-01", dt.date(2024, 7, 1)),
    ("2024年7月1日", dt.date(2024, 7, 1)),
    ("2024-7-1", dt.date(2024, 7, 1)),
    ("2024年12月31日", dt.date(2024, 12, 31)),
])
def test_date_accepted(value, expected):
    assert load(date=value)["date"] == expected


@pytest.mark.parametrize("value, message", [
    ("2024年07月01日", "日期不要补零：请写成“2024年7月1日”。"),
    ("二〇二四年七月一日", "日期请用阿拉伯数字：请写成“2024年7月1日”的形式。"),
    ("2024-02-30", "不存在这一天：2024-02-30。"),
    ("2024/7/1", "日期格式不对：请写成“2024年7月1日”或“2024-07-01”。"),
    ("1999-01-01", "年份应在2000年到2100年之间。"),
])
def test_date_refused(value, message):
    assert errors(date=value) == {"date": [message]}


@pytest.mark.parametrize("value, expected", [
    ("1234.56", Decimal("1234.56")),
    ("1,234.5", Decimal("1234.50")),
    (12, Decimal("12.00")),
    (0.1, Decimal("0.10")),
    ("１２.３", Decimal("12.30")),
    ("9999999999999.99", Decimal("9999999999999.99")),
])
def test_money_accepted(value, expected):
    result = load(amount=value)["amount"]
    assert result == expected and isinstance(result, Decimal) and str(result) == str(expected)


@pytest.mark.parametrize("value, message", [
    ("1.234", "金额最多保留两位小数。"),
    ("NaN", "“全年执行数（万元）”应填金额数字，例如1234.56；读到的是“NaN”。"),
    ("Infinity", "“全年执行数（万元）”应填金额数字，例如1234.56；读到的是“Infinity”。"),
    ("-1", "金额不能为负数。"),
    ("abc", "“全年执行数（万元）”应填金额数字，例如1234.56；读到的是“abc”。"),
    (True, "请输入金额数字，例如 1234.56。"),
    ("1e100", "“全年执行数（万元）”应填金额数字，例如1234.56；读到的是“1e100”。"),
    # The inputs of issue 15: a comma is never deleted wherever it stands.
    ("1280,50", "“全年执行数（万元）”读到“1280,50”：小数点请用“.”，不能用逗号（例如写成“1280.50”）。"),
    ("888523,34", "“全年执行数（万元）”读到“888523,34”：小数点请用“.”，不能用逗号（例如写成“888523.34”）。"),
    ("12,80.50", "“全年执行数（万元）”读到“12,80.50”：千分位逗号只能每三位数字一组（例如“1,280.50”），请核对金额。"),
    ("1,2805,000", "“全年执行数（万元）”读到“1,2805,000”：千分位逗号只能每三位数字一组（例如“1,280.50”），请核对金额。"),
    ("１２８０，５０", "“全年执行数（万元）”读到“1280,50”：小数点请用“.”，不能用逗号（例如写成“1280.50”）。"),
    ("1280.5万元", "“全年执行数（万元）”读到“1280.5万元”：只填数字，不要带单位，本栏的单位已是万元。"),
    ("12805000元", "“全年执行数（万元）”读到“12805000元”：只填数字，不要带单位，本栏的单位已是万元。"),
    ("¥1280", "“全年执行数（万元）”读到“¥1280”：只填数字，不要带单位，本栏的单位已是万元。"),
    ("1 280.50", "“全年执行数（万元）”应填金额数字，例如1234.56；读到的是“1 280.50”。"),
    ("10000000000000", "金额过大（不能超过10万亿）。"),
])
def test_money_refused(value, message):
    assert errors(amount=value) == {"amount": [message]}


def test_money_unit_from_label():
    assert errors(fee="3000元") == {"fee": ["“公用经费预算（元）”读到“3000元”：只填数字，不要带单位，本栏的单位已是元。"]}
    assert load(fee="12,805,000")["fee"] == Decimal("12805000.00")


def test_score_range():
    assert load(score="99.5")["score"] == Decimal("99.50")
    assert errors(score="100.01") == {"score": ["分数应在0到100之间。"]}


@pytest.mark.parametrize("value, message", [
    ("a\x01b", "含有不能写入文档的字符（U+0001，控制字符或无效字符），请删除后重新输入。"),
    ("a\ud800b", "含有不能写入文档的字符（U+D800，控制字符或无效字符），请删除后重新输入。"),
    ("a\uffffb", "含有不能写入文档的字符（U+FFFF，控制字符或无效字符），请删除后重新输入。"),
    ("a\nb", "不能换行。"),
    ("一二三四五六七八九十一", "不能超过10个字（现有11个）。"),
])
def test_text_refused(value, message):
    assert errors(text=value) == {"text": [message]}


def test_text_multiline_normalised():
    assert load(lines="  第一段  \r\n第二段\r第三段 ")["lines"] == "第一段\n第二段\n第三段"


def test_text_list():
    assert load(items=["甲", "", " 乙 "])["items"] == ["甲", "乙"]
    assert load(items="甲\n乙")["items"] == ["甲", "乙"]
    assert errors(items=["甲", "甲"]) == {"items": ["“甲”重复了。"]}
    assert errors(items=["1", "2", "3", "4"]) == {"items": ["最多3项。"]}


def test_unknown_field_named():
    assert errors(bogus=1) == {"bogus": ["不认识的字段。"]}


def test_illegal_characters_paths():
    payload = {"a": "ok", "b": [{"c": "x\x07"}], "d": {"e": "\ud800"}}
    found = illegal_characters(payload)
    assert set(found) == {"b.0.c", "d.e"}
    assert found["b.0.c"] == ["含有不能写入文档的字符（U+0007，控制字符或无效字符），请删除后重新输入。"]


def test_flatten_errors_nested():
    messages = {"a": ["x"], "b": {0: {"c": ["y"]}}, "_schema": ["z"], "d": {"_schema": ["w"]}}
    assert flatten_errors(messages) == {"a": ["x"], "b.0.c": ["y"], "_schema": ["z"], "d": ["w"]}
