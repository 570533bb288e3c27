"""Numbers read aloud: the words chosen for digits, whole numbers, money, dates and times,
in Chinese (the spoken rules: 零, 两, 十 at the start) and in English."""

from __future__ import annotations

import pytest

from boardcc.ivr.numbers import VOCABULARY, NumberFormatError, read, text_of, words_for


def zh(value: str, kind: str = "number") -> str:
    return text_of(read(value, kind, "zh"), "zh")


def en(value: str, kind: str = "number") -> str:
    return text_of(read(value, kind, "en"), "en")


@pytest.mark.parametrize(
    ("value", "chinese", "english"),
    [
        ("0", "零", "zero"),
        ("2", "二", "two"),
        ("7", "七", "seven"),
        ("10", "十", "ten"),
        ("11", "十一", "eleven"),
        ("15", "十五", "fifteen"),
        ("20", "二十", "twenty"),
        ("22", "二十二", "twenty two"),
        ("99", "九十九", "ninety nine"),
        ("100", "一百", "one hundred"),
        ("105", "一百零五", "one hundred five"),
        ("110", "一百一十", "one hundred ten"),
        ("115", "一百一十五", "one hundred fifteen"),
        ("200", "两百", "two hundred"),
        ("222", "两百二十二", "two hundred twenty two"),
        ("1005", "一千零五", "one thousand five"),
        ("1050", "一千零五十", "one thousand fifty"),
        ("1200", "一千两百", "one thousand two hundred"),
        ("2000", "两千", "two thousand"),
        ("10000", "一万", "ten thousand"),
        ("10005", "一万零五", "ten thousand five"),
        ("10010", "一万零一十", "ten thousand ten"),
        ("20000", "两万", "twenty thousand"),
        ("22000", "两万两千", "twenty two thousand"),
        ("100000", "十万", "one hundred thousand"),
        ("100500", "十万零五百", "one hundred thousand five hundred"),
        ("120000", "十二万", "one hundred twenty thousand"),
        ("1000001", "一百万零一", "one million one"),
        ("20000000", "两千万", "twenty million"),
        ("100000000", "一亿", "one hundred million"),
        ("100010000", "一亿零一万", "one hundred million ten thousand"),
        ("200000000", "两亿", "two hundred million"),
        ("1234567890", "十二亿三千四百五十六万七千八百九十", None),
        ("0.5", "零点五", "zero point five"),
        ("3.14", "三点一四", "three point one four"),
        ("-15", "负十五", "minus fifteen"),
        ("-0.5", "负零点五", "minus zero point five"),
    ],
)
def test_whole_and_decimal_numbers(value: str, chinese: str, english: str | None) -> None:
    assert zh(value) == chinese
    if english is not None:
        assert en(value) == english


@pytest.mark.parametrize(
    ("value", "chinese", "english"),
    [
        ("0", "零元", "zero yuan"),
        ("0.5", "五角", "fifty cents"),
        ("0.05", "五分", "five cents"),
        ("0.01", "一分", "one cent"),
        ("1", "一元", "one yuan"),
        ("1.05", "一元零五分", "one yuan five cents"),
        ("1.50", "一元五角", "one yuan fifty cents"),
        ("2", "两元", "two yuan"),
        ("2.22", "两元两角两分", "two yuan twenty two cents"),
        ("10.5", "十元五角", "ten yuan fifty cents"),
        ("12.34", "十二元三角四分", "twelve yuan thirty four cents"),
        ("22", "二十二元", "twenty two yuan"),
        ("200", "两百元", "two hundred yuan"),
        ("1005.08", "一千零五元零八分", "one thousand five yuan eight cents"),
        ("2.005", "两元零一分", "two yuan one cent"),  # rounded half up to the fen
        ("-3.5", "负三元五角", "minus three yuan fifty cents"),
    ],
)
def test_money_in_yuan_jiao_fen(value: str, chinese: str, english: str) -> None:
    assert zh(value, "money") == chinese
    assert en(value, "money") == english


def test_digits_one_by_one_read_1_as_yao_in_chinese() -> None:
    assert zh("13800138000", "digits") == "幺三八零零幺三八零零零"
    assert en("105", "digits") == "one zero five"


@pytest.mark.parametrize(
    ("value", "kind", "chinese", "english"),
    [
        ("20260105", "date", "二零二六年一月五日", "January five two thousand twenty six"),
        (
            "2026-12-25",
            "date",
            "二零二六年十二月二十五日",
            "December twenty five two thousand twenty six",
        ),
        ("0830", "time", "八点三十分", "eight thirty"),
        ("1005", "time", "十点零五分", "ten oh five"),
        ("0200", "time", "两点整", "two o'clock"),
        ("14:00:09", "time", "十四点零分九秒", "fourteen o'clock nine seconds"),
        ("20260105093000", "datetime", "二零二六年一月五日九点三十分", None),
    ],
)
def test_dates_and_times(value: str, kind: str, chinese: str, english: str | None) -> None:
    assert zh(value, kind) == chinese
    if english is not None:
        assert en(value, kind) == english


@pytest.mark.parametrize(
    ("value", "kind"),
    [("12a", "number"), ("", "digits"), ("1.2.3", "money"), ("20261301", "date"), ("2460", "time")],
)
def test_values_that_are_not_of_the_kind_are_refused(value: str, kind: str) -> None:
    with pytest.raises(NumberFormatError, match=repr(value)):
        read(value, kind, "zh")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", ["number", "money", "date", "time", "digits"])
def test_every_word_read_is_in_the_vocabulary(lang: str, kind: str) -> None:
    samples = {
        "number": ["0", "7", "12", "105", "2222", "100500", "987654321012", "-3.25"],
        "money": ["0.5", "1.05", "22.22", "1000000.99"],
        "date": ["20260105", "19991231"],
        "time": ["0000", "2359", "120509"],
        "digits": ["0123456789"],
    }[kind]
    for value in samples:
        assert set(read(value, kind, lang)) <= words_for({kind}, lang) <= set(VOCABULARY[lang])
