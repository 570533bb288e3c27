"""Numbers read aloud from prompt words (放音数字): digits, whole numbers, money, dates, times.

A voice board reads a number by playing short recorded words one after another, so reading
is a pure function from a value to a list of word names; the flow's prompt set for the
call's language has one file per word (``n5.wav`` is 五 or "five"). `VOCABULARY` lists
every word with what it says in each language, which is what ``scripts/make_prompts.py``
records and what the validator checks a prompt set against.

Chinese (zh) follows the spoken rules: digits group by 万 and 亿; a run of zeros inside a
number is one 零 (1005 一千零五, 10005 一万零五, 100500 十万零五百), trailing zeros are
silent; a number starting 10-19 drops the 一 (十五, but 一百一十); 2 before 千, 百, 万, 亿
and as a count of money is 两 (两百, 两千, 两万, 两元, 两角), elsewhere 二 (二十二); money is
元/角/分 with 零 for a missing 角 (1.05 一元零五分); a date reads its year digit by digit
(二零二六年); digits one by one read 1 as 幺, as on the telephone. English reads whole
numbers the US way (one hundred five), money as yuan and cents, dates as month, day, year.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

LANGUAGES = ("zh", "en")
KINDS = ("digits", "number", "money", "date", "time", "datetime")


class NumberFormatError(ValueError):
    """A value that cannot be read as the kind asked for."""


_ZH_DIGITS = "零一二三四五六七八九"
_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

#: Every word a language's prompt set needs for reading numbers: name -> what it says.
VOCABULARY: dict[str, dict[str, str]] = {
    "zh": {
        **{f"n{d}": _ZH_DIGITS[d] for d in range(10)},
        "n10": "十",
        "n100": "百",
        "n1000": "千",
        "n10000": "万",
        "n100000000": "亿",
        "liang": "两",
        "yao": "幺",
        "point": "点",
        "minus": "负",
        "yuan": "元",
        "jiao": "角",
        "fen": "分",
        "year": "年",
        "month": "月",
        "day": "日",
        "hour": "点",
        "minute": "分",
        "second": "秒",
        "sharp": "整",
    },
    "en": {
        **{f"n{d}": w for d, w in enumerate(_EN_ONES)},
        **{f"n{10 * (k + 2)}": w for k, w in enumerate(_EN_TENS)},
        "n100": "hundred",
        "n1000": "thousand",
        "n1000000": "million",
        "n1000000000": "billion",
        "point": "point",
        "minus": "minus",
        "yuan": "yuan",
        "cent": "cent",
        "cents": "cents",
        "oh": "oh",
        "oclock": "o'clock",
        "seconds": "seconds",
        **{f"month{k + 1}": m for k, m in enumerate(_MONTHS)},
    },
}

_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def read(value: str, kind: str, language: str) -> list[str]:
    """The words that read `value` as `kind` in `language`.

    Parameters
    ----------
    value : str
        Digits for ``digits``; a decimal number for ``number`` and ``money`` (yuan);
        ``YYYYMMDD`` or ``YYYY-MM-DD`` for ``date``; ``hhmm``, ``hhmmss``, ``hh:mm`` or
        ``hh:mm:ss`` for ``time``; ``YYYYMMDDhhmmss`` (the DATETIME macro) for ``datetime``.
    kind : {"digits", "number", "money", "date", "time", "datetime"}
    language : {"zh", "en"}

    Raises
    ------
    NumberFormatError
        The value is not one of that kind.
    """
    if language not in LANGUAGES:
        raise ValueError(f"no number reading for language {language!r} (have: zh, en)")
    value = value.strip()
    zh = language == "zh"
    if kind == "digits":
        if not value or not value.isdigit() or not value.isascii():
            raise NumberFormatError(f"{value!r} is not a string of digits")
        return [("yao" if d == "1" and zh else f"n{d}") for d in value]
    if kind == "number":
        return _decimal(value, zh)
    if kind == "money":
        return _money(value, zh)
    if kind == "date":
        y, m, d = _date(value)
        return _zh_date(y, m, d) if zh else _en_date(y, m, d)
    if kind == "time":
        return _time_words(*_time(value), zh)
    if kind == "datetime":
        digits = re.sub(r"[-: T]", "", value)
        if not re.fullmatch(r"[0-9]{14}", digits):
            raise NumberFormatError(f"{value!r} is not a date and time (YYYYMMDDhhmmss)")
        y, m, d = _date(digits[:8])
        date = _zh_date(y, m, d) if zh else _en_date(y, m, d)
        return date + _time_words(*_time(digits[8:]), zh)
    raise ValueError(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")


# -- whole and decimal numbers ---------------------------------------------------------------


def zh_integer(n: int, *, counted: bool = False) -> list[str]:
    """A whole number >= 0 in Chinese; `counted`: a lone 2 counts something (两元)."""
    if n < 0:
        raise ValueError(f"a whole number >= 0, got {n}")
    if n == 0:
        return ["n0"]
    if n == 2 and counted:
        return ["liang"]
    groups: list[int] = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    out: list[str] = []
    gap = False  # a zero group (or leading zeros) since the last words
    for level in range(len(groups) - 1, -1, -1):
        g = groups[level]
        if g == 0:
            gap = gap or bool(out)
            continue
        if out and (gap or g < 1000):
            out.append("n0")
        gap = False
        out += _zh_group(g, leading=not out, big=level > 0)
        if level:
            out += ["n10000"] if level % 2 else []
            out += ["n100000000"] * (level // 2)
    return out


def _zh_group(g: int, *, leading: bool, big: bool) -> list[str]:
    """One group of four digits (below 万): 千, 百, 十 and units, zeros as the rules say."""
    out: list[str] = []
    started = zero = False
    for pos, unit in enumerate(("n1000", "n100", "n10", "")):
        d = g // 10 ** (3 - pos) % 10
        if d == 0:
            zero = zero or started
            continue
        if zero:
            out.append("n0")
            zero = False
        if pos == 2 and d == 1 and leading and not started:
            out.append("n10")  # 十五, not 一十五, at the start of a number
        else:
            two = d == 2 and (pos < 2 or (pos == 3 and not started and big))
            out.append("liang" if two else f"n{d}")
            if unit:
                out.append(unit)
        started = True
    return out


def en_integer(n: int) -> list[str]:
    """A whole number >= 0 in English (one hundred five, twenty million)."""
    if n < 0:
        raise ValueError(f"a whole number >= 0, got {n}")
    if n == 0:
        return ["n0"]
    out: list[str] = []
    for scale, word in ((10**9, "n1000000000"), (10**6, "n1000000"), (1000, "n1000")):
        if n >= scale:
            high, n = divmod(n, scale)
            out += [*en_integer(high), word]
    if n:
        hundreds, rest = divmod(n, 100)
        if hundreds:
            out += [f"n{hundreds}", "n100"]
        if rest >= 20:
            out.append(f"n{rest // 10 * 10}")
            rest %= 10
        if rest:
            out.append(f"n{rest}")
    return out


def _parse(value: str) -> Decimal:
    if not _NUMBER.fullmatch(value):
        raise NumberFormatError(f"{value!r} is not a number")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already checked
        raise NumberFormatError(f"{value!r} is not a number") from exc


def _decimal(value: str, zh: bool) -> list[str]:
    number = _parse(value)
    whole, _, frac = value.lstrip("-").partition(".")
    out = ["minus"] if number < 0 else []
    n = int(whole)
    out += zh_integer(n) if zh else en_integer(n)
    if frac:
        out.append("point")
        out += [f"n{d}" for d in frac]
    return out


def _money(value: str, zh: bool) -> list[str]:
    amount = _parse(value)
    cents = int((abs(amount) * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    out = ["minus"] if amount < 0 and cents else []
    if not zh:
        if yuan or not rest:
            out += [*en_integer(yuan), "yuan"]
        if rest:
            out += [*en_integer(rest), "cent" if rest == 1 else "cents"]
        return out
    if yuan or not rest:
        out += [*zh_integer(yuan, counted=True), "yuan"]
    if jiao:
        out += [*zh_integer(jiao, counted=True), "jiao"]
    elif yuan and fen:
        out.append("n0")
    if fen:
        out += [*zh_integer(fen, counted=True), "fen"]
    return out


# -- dates and times ---------------------------------------------------------------------------


def _date(value: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})", value)
    if m is None:
        raise NumberFormatError(f"{value!r} is not a date (YYYYMMDD or YYYY-MM-DD)")
    y, mo, d = (int(x) for x in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        raise NumberFormatError(f"{value!r} is not a date: month {mo}, day {d}")
    return y, mo, d


def _time(value: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"([0-9]{2}):?([0-9]{2})(?::?([0-9]{2}))?", value)
    if m is None:
        raise NumberFormatError(f"{value!r} is not a time (hhmm, hhmmss, hh:mm or hh:mm:ss)")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or s > 59:
        raise NumberFormatError(f"{value!r} is not a time of day")
    return h, mi, s


def _zh_date(y: int, m: int, d: int) -> list[str]:
    return [f"n{c}" for c in f"{y:04d}"] + ["year", *zh_integer(m), "month", *zh_integer(d), "day"]


def _en_date(y: int, m: int, d: int) -> list[str]:
    return [f"month{m}", *en_integer(d), *en_integer(y)]


def _time_words(h: int, m: int, s: int, zh: bool) -> list[str]:
    if zh:
        out = [*zh_integer(h, counted=True), "hour"]
        if m == 0 and s == 0:
            return [*out, "sharp"]
        out += (["n0"] if 0 < m < 10 else []) + zh_integer(m) + ["minute"]
        return out + ([*zh_integer(s), "second"] if s else [])
    out = en_integer(h)
    if m == 0 and s == 0:
        return [*out, "oclock"]
    out += ["oclock"] if m == 0 else ["oh", f"n{m}"] if m < 10 else en_integer(m)
    return out + ([*en_integer(s), "seconds"] if s else [])


def words_for(kinds: set[str], language: str) -> set[str]:
    """Every word reading numbers of `kinds` in `language` may need (for the validator)."""
    digits = {f"n{d}" for d in range(10)}
    if language == "zh":
        whole = digits | {"n10", "n100", "n1000", "n10000", "n100000000", "liang", "minus"}
        need = {
            "digits": digits | {"yao"},
            "number": whole | {"point"},
            "money": whole | {"yuan", "jiao", "fen"},
            "date": digits | {"n10", "year", "month", "day"},
            "time": digits | {"n10", "liang", "hour", "minute", "second", "sharp"},
        }
    else:
        small = {w for w in VOCABULARY["en"] if re.fullmatch(r"n[0-9]+", w) and len(w) <= 3}
        whole = small | {"n100", "n1000", "n1000000", "n1000000000", "minus"}
        need = {
            "digits": digits,
            "number": whole | {"point"},
            "money": whole | {"yuan", "cent", "cents"},
            "date": whole | {f"month{m}" for m in range(1, 13)},
            "time": small | {"oh", "oclock", "seconds"},
        }
    need["datetime"] = need["date"] | need["time"]
    return set().union(*(need[k] for k in kinds))


def text_of(words: list[str], language: str) -> str:
    """The words as text, for logs and ``boardcc flow run`` (五 元, "five yuan")."""
    vocab = VOCABULARY[language]
    return ("" if language == "zh" else " ").join(vocab.get(w, w) for w in words)
