"""Amounts as an organization writes them (domain/money.py): read as its readers mean them, refused
with the reading shown when they could mean two things, never scaled silently, shown with currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import MoneyStyle, format_amount, format_signed, parse_amount, parse_monthly_plan
from domain.parsing import InputError

DE = MoneyStyle("EUR", "de")
EN = MoneyStyle("EUR", "en")
US = MoneyStyle("USD", "en")


@pytest.mark.parametrize(
    ("style", "text", "value"),
    [
        (DE, "2,5k", 2_500), (DE, "1.250.000", 1_250_000), (DE, "1,5 Mio", 1_500_000), (DE, "1,5 Mio.", 1_500_000),
        (DE, "250.000 €", 250_000), (DE, "€ 250k", 250_000), (DE, "250 000", 250_000), (DE, "3 Mrd", 3 * 10**9),
        (DE, "12 Tsd.", 12_000), (DE, "EUR 1000", 1_000), (DE, "-40.000", -40_000), (DE, "250.000,00", 250_000),
        (EN, "1,250,000", 1_250_000), (EN, "1.5m", 1_500_000), (EN, "€250k", 250_000), (EN, "250000", 250_000),
        (EN, "-40 000", -40_000), (EN, "€ 12K", 12_000), (EN, "0", 0), (EN, "2bn", 2 * 10**9),
        (US, "$250k", 250_000), (US, "USD 1,000", 1_000),
    ],
)  # fmt: skip
def test_amounts_read_as_the_organization_writes_them(style: MoneyStyle, text: str, value: int) -> None:
    assert parse_amount(text, style) == value


@pytest.mark.parametrize(
    ("style", "text", "shown"),
    [
        (DE, "250000,50", "250.000,50 €"),  # cents: the reading is shown, nothing rounded
        (DE, "1.250.000,50", "1.250.000,50 €"),
        (DE, "250,000", "250 € or as 250.000 €"),  # an English-looking grouping: two readings
        (DE, "1,250k", "1.250 € or as 1.250.000 €"),
        (DE, "1.5m", "“m”"),  # English scale word in German
        (DE, "2.5k", "“25” or “2,5”"),
        (DE, "1,250,000.50", "English way"),
        (EN, "250.000 €", "€250 or as €250,000"),  # a German-looking grouping
        (EN, "2,5k", "“25” or “2.5”"),
        (EN, "250000,50", "“25,000,050” or “250,000.5”"),
        (EN, "1.250.000,50", "German way"),
        (EN, "1,250,000.50", "€1,250,000.50"),
        (EN, "1,5 Mio", "“Mio”"),
        (EN, "$250k", "another currency"),  # never converted
        (DE, "CHF 10", "another currency"),
    ],
)  # fmt: skip
def test_doubtful_amounts_are_refused_showing_how_they_read(style: MoneyStyle, text: str, shown: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_amount(text, style)
    assert shown in str(refused.value).replace("\xa0", " ")


@pytest.mark.parametrize("text", ["lots", "1.2.3", "k", "12x", "", "1e9", "9" * 20, "--5", "5-"])
def test_what_is_no_amount_says_how_to_write_one(text: str) -> None:
    for style in (DE, EN):
        with pytest.raises(InputError):
            parse_amount(text, style)


def test_negative_amounts_only_where_they_mean_something() -> None:
    assert parse_amount("-5k", DE) == -5_000
    with pytest.raises(InputError, match="negative"):
        parse_amount("-5k", DE, negative=False)


def test_every_amount_shown_carries_its_currency_in_the_readers_locale() -> None:
    assert format_amount(250_000, DE) == "250.000\xa0€"
    assert format_amount(250_000, EN) == "€250,000"
    assert format_amount(1_000, US) == "$1,000"
    assert format_amount(-3_000, DE) == "-3.000\xa0€"
    assert format_signed(12_000, EN) == "+€12,000"
    assert format_amount(None, DE) == "—"


@given(st.integers(min_value=-(10**14), max_value=10**14), st.sampled_from([DE, EN, US]))
def test_what_is_shown_reads_back_as_the_same_amount(value: int, style: MoneyStyle) -> None:
    assert parse_amount(format_amount(value, style), style) == value


def test_a_monthly_plan_reads_its_amounts_in_the_organizations_way() -> None:
    plan = parse_monthly_plan("2027-01: 2,5k\n2027-02: 1.250", DE)
    assert plan == {date_of(2027, 1): 2_500, date_of(2027, 2): 1_250}
    with pytest.raises(InputError, match="line 2"):
        parse_monthly_plan("2027-01: 2,5k\n2027-02: 2.5k", DE)


def date_of(year: int, month: int) -> object:
    from datetime import date

    return date(year, month, 1)


def test_amounts_are_exact() -> None:
    assert isinstance(parse_amount("1,5 Mio", DE), int)
    assert Decimal(parse_amount("0,1k", DE)) == Decimal(100)
