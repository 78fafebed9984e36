"""Issue 9.10: money is exact — refused when it cannot be, exact through storage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError
from sqlalchemy import select

from forms.base import BaseSchema
from forms.fields import Money
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Submission

LIMIT = Decimal("10000000000000")  # 10^13 万元
cents = st.integers(min_value=0, max_value=int(LIMIT * 100) - 1).map(lambda c: Decimal(c).scaleb(-2))


class M(BaseSchema):
    amount = Money(required=True)


@given(cents)
def test_money_with_two_places_loads_exactly(amount):
    assert M().load({"amount": str(amount)})["amount"] == amount
    assert M().load({"amount": f"{amount:,}"})["amount"] == amount


@given(cents, st.integers(min_value=1, max_value=9))
def test_more_than_two_places_is_refused(amount, digit):
    text = f"{amount}{digit}" if "." in str(amount) else f"{amount}.00{digit}"
    with pytest.raises(ValidationError) as exc:
        M().load({"amount": text})
    assert exc.value.messages == {"amount": ["金额最多保留两位小数。"]}


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-Infinity", "inf", "sNaN", float("nan"), float("inf")])
def test_nan_and_infinity_are_refused(value):
    with pytest.raises(ValidationError) as exc:
        M().load({"amount": value})
    message = exc.value.messages["amount"][0]
    assert "应填金额数字" in message or message in ("请输入金额数字，例如 1234.56。", "金额过大（不能超过10万亿）。")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('money') / 'm.sqlite3'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


@settings(max_examples=60, deadline=None)
@given(st.lists(cents, min_size=1, max_size=5))
def test_amounts_round_trip_exactly_through_storage(db, amounts):
    with db.write() as session:
        sub = Submission(kind="public_funds_assessment")
        sub.data = {"amounts": amounts, "total": sum(amounts, Decimal(0))}
        session.add(sub)
        session.flush()
        sub_id = sub.id
    with db.read() as session:
        stored = session.scalar(select(Submission).where(Submission.id == sub_id)).data
    assert [Decimal(a) for a in stored["amounts"]] == amounts
    assert Decimal(stored["total"]) == sum(amounts, Decimal(0))
