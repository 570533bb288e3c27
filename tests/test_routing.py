"""boardcc.routing: which inbound rule takes a call, what an outbound number becomes, and
which trunk it goes out on.

The inbound and outbound cases use the shipped sample site (`boardcc init`), whose rules
are those of seed 003's kind of site: a service line 400800888 and a care line 400800999
with working hours, Saturday mornings and holidays; agents dialling 9 for an outside line,
barred from international calls, long distance through the IP prefix 17909.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from boardcc.config import OutboundRule, SiteConfig, load_site
from boardcc.routing import Hunter, NoRoute, inbound_rule, outbound_rule, place

SAMPLE = Path(str(files("boardcc") / "samples" / "site.yaml"))

MONDAY = dt.date(2026, 1, 5)
SATURDAY = dt.date(2026, 1, 10)
SUNDAY = dt.date(2026, 1, 11)
NATIONAL_DAY = dt.date(2026, 10, 1)  # a Thursday, in the sample's holidays


def at(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m)


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return load_site(SAMPLE)


def rule_name(site: SiteConfig, group: str | None, when: dt.datetime) -> str | None:
    rule = inbound_rule(site, None if group is None else site.trunk_group(group), when)
    return None if rule is None else rule.name


def with_inbound(site: SiteConfig, *rules: dict[str, Any], **more: Any) -> SiteConfig:
    """The sample site with other inbound rules (and other top-level keys)."""
    data = site.model_dump(exclude={"source", "prompts"})
    data |= {"inbound": list(rules), **more}
    return SiteConfig.model_validate(data)


HANG_UP = [{"hang_up": True}]

# -- inbound ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "when", "expected"),
    [
        ("main", at(MONDAY, "10:00"), "service"),
        ("care", at(MONDAY, "10:00"), "care"),
        ("main", at(MONDAY, "08:30"), "service"),  # the start is in the period...
        ("main", at(MONDAY, "17:29"), "service"),
        ("main", at(MONDAY, "17:30"), "closed"),  # ...the end is not
        ("main", at(MONDAY, "08:29"), "closed"),
        ("main", at(SATURDAY, "10:00"), "service-saturday"),
        ("care", at(SATURDAY, "10:00"), "closed"),  # care has no Saturday rule
        ("main", at(SATURDAY, "12:00"), "closed"),
        ("main", at(SUNDAY, "10:00"), "closed"),
        ("main", at(NATIONAL_DAY, "10:00"), "closed"),  # a Thursday, but a holiday
        ("care", at(NATIONAL_DAY, "10:00"), "closed"),
        ("main", at(NATIONAL_DAY + dt.timedelta(days=1), "10:00"), "closed"),
        ("main", at(NATIONAL_DAY + dt.timedelta(days=7), "10:00"), "service"),
    ],
)
def test_the_sample_site_chooses_by_access_number_period_and_holiday(
    site: SiteConfig, group: str, when: dt.datetime, expected: str
) -> None:
    assert rule_name(site, group, when) == expected


def test_a_trunk_in_no_group_takes_only_rules_that_name_no_line(site: SiteConfig) -> None:
    assert rule_name(site, None, at(MONDAY, "10:00")) == "closed"
    only_lines = with_inbound(
        site, {"name": "service", "access_number": "400800888", "steps": HANG_UP}
    )
    assert rule_name(only_lines, None, at(MONDAY, "10:00")) is None


def test_a_rule_by_trunk_group(site: SiteConfig) -> None:
    s = with_inbound(
        site,
        {"name": "care-lines", "trunk_group": "care", "steps": HANG_UP},
        {"name": "rest", "steps": HANG_UP},
    )
    assert rule_name(s, "care", at(SUNDAY, "03:00")) == "care-lines"
    assert rule_name(s, "main", at(SUNDAY, "03:00")) == "rest"


def test_a_rule_naming_trunk_group_and_access_number_needs_both(site: SiteConfig) -> None:
    s = with_inbound(
        site,
        {"name": "both", "trunk_group": "main", "access_number": "400800999", "steps": HANG_UP},
        {"name": "rest", "steps": HANG_UP},
    )
    assert rule_name(s, "main", at(MONDAY, "10:00")) == "rest"  # main's number is 400800888
    assert rule_name(s, "care", at(MONDAY, "10:00")) == "rest"  # care is not main
    s = with_inbound(
        site,
        {"name": "both", "trunk_group": "main", "access_number": "400800888", "steps": HANG_UP},
    )
    assert rule_name(s, "main", at(MONDAY, "10:00")) == "both"


@pytest.mark.parametrize(
    ("holidays", "on_holiday", "on_workday"),
    [
        (True, "rule", "rest"),  # only on holidays
        (False, "rest", "rule"),  # never on holidays
        (None, "rule", "rule"),  # either
    ],
)
def test_holidays_true_false_or_not_given(
    site: SiteConfig, holidays: bool | None, on_holiday: str, on_workday: str
) -> None:
    rule: dict[str, Any] = {"name": "rule", "period": "workdays", "steps": HANG_UP}
    if holidays is not None:
        rule["holidays"] = holidays
    s = with_inbound(site, rule, {"name": "rest", "steps": HANG_UP})
    assert rule_name(s, "main", at(NATIONAL_DAY, "10:00")) == on_holiday
    assert rule_name(s, "main", at(NATIONAL_DAY + dt.timedelta(days=7), "10:00")) == on_workday


def test_a_holiday_rule_without_a_period_takes_the_whole_day(site: SiteConfig) -> None:
    s = with_inbound(
        site,
        {"name": "holiday", "holidays": True, "steps": HANG_UP},
        *[r.model_dump() for r in site.inbound],
    )
    assert rule_name(s, "main", at(NATIONAL_DAY, "03:00")) == "holiday"
    assert rule_name(s, "main", at(NATIONAL_DAY, "10:00")) == "holiday"
    assert rule_name(s, "main", at(MONDAY, "10:00")) == "service"


def test_the_forced_rule_wins_whatever_the_time_and_order(site: SiteConfig) -> None:
    rules = [r.model_dump() for r in site.inbound]
    s = with_inbound(site, *rules, {"name": "works", "forced": True, "steps": HANG_UP})
    for group in ("main", "care"):
        for when in (at(MONDAY, "10:00"), at(SUNDAY, "23:00"), at(NATIONAL_DAY, "10:00")):
            assert rule_name(s, group, when) == "works"


def test_a_forced_rule_for_one_line_leaves_the_other_alone(site: SiteConfig) -> None:
    rules = [r.model_dump() for r in site.inbound]
    forced = {"name": "care-off", "forced": True, "access_number": "400800999", "steps": HANG_UP}
    s = with_inbound(site, *rules, forced)
    assert rule_name(s, "care", at(MONDAY, "10:00")) == "care-off"
    assert rule_name(s, "main", at(MONDAY, "10:00")) == "service"


def test_a_forced_rule_ignores_its_period(site: SiteConfig) -> None:
    forced = {"name": "f", "forced": True, "period": "saturday", "steps": HANG_UP}
    s = with_inbound(site, {"name": "rest", "steps": HANG_UP}, forced)
    assert rule_name(s, "main", at(MONDAY, "10:00")) == "f"


def test_no_rule_matching_is_none(site: SiteConfig) -> None:
    s = with_inbound(site, {"name": "day", "period": "workdays", "steps": HANG_UP})
    assert rule_name(s, "main", at(SUNDAY, "10:00")) is None


def test_an_overnight_period_routes_the_night(site: SiteConfig) -> None:
    night = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "end": "06:00"}
    periods = {name: p.model_dump() for name, p in site.periods.items()} | {"night": night}
    s = with_inbound(
        site,
        {"name": "night", "period": "night", "steps": HANG_UP},
        {"name": "rest", "steps": HANG_UP},
        periods=periods,
    )
    assert rule_name(s, "main", at(MONDAY, "23:00")) == "night"
    assert rule_name(s, "main", at(MONDAY + dt.timedelta(days=1), "05:00")) == "night"
    assert rule_name(s, "main", at(MONDAY, "05:00")) == "rest"  # Sunday night is not in it
    assert rule_name(s, "main", at(SATURDAY, "05:00")) == "night"  # Friday night is


# -- outbound ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialled", "number"),
    [
        ("913812345678", "13812345678"),  # a mobile: as dialled
        ("962345678", "62345678"),  # a local number
        ("901087654321", "1790901087654321"),  # Beijing: long distance through 17909
        ("902162345678", "62345678"),  # Shanghai's own area code: dropped
        ("9110", "110"),
    ],
)
def test_hard_dial_drops_the_prefix_and_rewrites(
    site: SiteConfig, dialled: str, number: str
) -> None:
    out = place(site, "agents", dialled, prefixed=True)
    assert out.number == number
    assert out.rule is outbound_rule(site, "agents")
    assert out.rule.trunk_group == "main"


def test_hard_dial_needs_the_outside_line_prefix(site: SiteConfig) -> None:
    with pytest.raises(NoRoute, match="does not start with the outside-line prefix 9"):
        place(site, "agents", "01087654321", prefixed=True)


def test_soft_dial_gives_the_bare_number(site: SiteConfig) -> None:
    assert place(site, "agents", "01087654321", prefixed=False).number == "1790901087654321"
    # A soft-dialled number that starts with 9 is a number starting with 9.
    assert place(site, "agents", "95555", prefixed=False).number == "95555"


@pytest.mark.parametrize("dialled", ["9", "9123*4", "9 123", ""])
def test_what_is_not_a_number_is_refused(site: SiteConfig, dialled: str) -> None:
    with pytest.raises(NoRoute):
        place(site, "agents", dialled, prefixed=bool(dialled))


def test_barred_prefixes_are_per_group(site: SiteConfig) -> None:
    with pytest.raises(NoRoute, match="barred for agents"):
        place(site, "agents", "900441234567", prefixed=True)
    with pytest.raises(NoRoute, match="barred"):
        place(site, "agents", "00441234567", prefixed=False)
    # The team leader may call abroad (through the IP prefix, as all numbers starting 0).
    assert place(site, "leaders", "900441234567", prefixed=True).number == "1790900441234567"
    assert place(site, "leaders", "913812345678", prefixed=True).rule.trunk_group == "care"


def test_a_group_without_a_rule_cannot_call_out(site: SiteConfig) -> None:
    assert outbound_rule(site, "lobby") is None
    with pytest.raises(NoRoute, match="station group 'lobby' may not call out"):
        place(site, "lobby", "962345678", prefixed=True)


def _site_with_outbound(**rule: Any) -> SiteConfig:
    return load_site(
        {
            "trunk_groups": [{"name": "t", "channels": "0-3"}],
            "outbound": [{"trunk_group": "t", **rule}],
        }
    )


def test_no_prefix_means_hard_dial_dials_straight_out() -> None:
    s = _site_with_outbound(prefix="")
    assert place(s, "default", "62345678", prefixed=True).number == "62345678"


def test_only_the_first_matching_rewrite_applies() -> None:
    s = _site_with_outbound(
        rewrite=[
            {"match": "^1[3-9][0-9]{9}$", "prepend": "0"},
            {"match": "^0", "prepend": "17909"},
            {"match": "^[2-8]", "prepend": "021", "strip": 0},
        ]
    )
    assert place(s, "default", "913812345678", prefixed=True).number == "013812345678"
    assert place(s, "default", "9075512345678", prefixed=True).number == "17909075512345678"
    assert place(s, "default", "962345678", prefixed=True).number == "02162345678"
    assert place(s, "default", "9110", prefixed=True).number == "110"  # no rule matches


def test_rewrite_strips_then_prepends() -> None:
    s = _site_with_outbound(rewrite=[{"match": "^00", "strip": 2, "prepend": "17951"}])
    assert place(s, "default", "900441234", prefixed=True).number == "17951441234"


# -- trunk hunting ----------------------------------------------------------------------------


def rule(hunting: str, group: str = "main") -> OutboundRule:
    return OutboundRule.model_validate({"trunk_group": group, "hunting": hunting})


def idle_except(*busy: int) -> Any:
    return lambda t: t not in busy


def picks(
    hunter: Hunter, r: OutboundRule, trunks: Sequence[int], n: int, busy: Sequence[int] = ()
) -> list[int | None]:
    return [hunter.pick(r, trunks, idle_except(*busy)) for _ in range(n)]


def test_sequential_takes_the_first_idle_trunk_every_time() -> None:
    h = Hunter()
    trunks = list(range(5))
    assert picks(h, rule("sequential"), trunks, 3) == [0, 0, 0]
    assert picks(h, rule("sequential"), trunks, 2, busy=(0, 1)) == [2, 2]


def test_round_robin_takes_turns_and_wraps() -> None:
    h = Hunter()
    assert picks(h, rule("round_robin"), [0, 1, 2], 7) == [0, 1, 2, 0, 1, 2, 0]


def test_round_robin_skips_busy_trunks() -> None:
    h = Hunter()
    r = rule("round_robin")
    assert picks(h, r, [0, 1, 2, 3], 4, busy=(1, 2)) == [0, 3, 0, 3]


def test_round_robin_remembers_across_calls_per_trunk_group() -> None:
    h = Hunter()
    main, care = rule("round_robin", "main"), rule("round_robin", "care")
    assert h.pick(main, [0, 1, 2], idle_except()) == 0
    assert h.pick(care, [10, 11], idle_except()) == 10
    assert h.pick(main, [0, 1, 2], idle_except()) == 1
    # Trunk 2 is taken by an inbound call meanwhile; the turn passes it and wraps.
    assert h.pick(main, [0, 1, 2], idle_except(2)) == 0
    assert h.pick(care, [10, 11], idle_except()) == 11
    # Another station group's rule on the same trunks shares the memory.
    assert h.pick(rule("round_robin", "main"), [0, 1, 2], idle_except()) == 1


def test_round_robin_follows_the_groups_order_not_channel_numbers() -> None:
    # Regression: the turn went to the next higher channel number, so with trunks listed
    # "10-19,0-9" channels 0-9 were only used while every one of 10-19 was busy.
    h = Hunter()
    trunks = [*range(10, 20), *range(10)]
    got = picks(h, rule("round_robin"), trunks, 25)
    assert got == [*trunks, *trunks[:5]]


def test_random_is_seeded_picks_only_idle_trunks_and_spreads() -> None:
    trunks = list(range(8))
    a = picks(Hunter(seed=7), rule("random"), trunks, 200, busy=(2, 5))
    b = picks(Hunter(seed=7), rule("random"), trunks, 200, busy=(2, 5))
    assert a == b
    assert set(a) == {0, 1, 3, 4, 6, 7}
    assert picks(Hunter(seed=8), rule("random"), trunks, 200, busy=(2, 5)) != a


@pytest.mark.parametrize("hunting", ["sequential", "round_robin", "random"])
def test_every_hunting_gives_none_when_all_trunks_are_busy(hunting: str) -> None:
    h = Hunter()
    assert h.pick(rule(hunting), [0, 1, 2], idle_except(0, 1, 2)) is None
    assert h.pick(rule(hunting), [], idle_except()) is None
    # ...and takes a trunk again as soon as one is free.
    assert h.pick(rule(hunting), [0, 1, 2], idle_except(0, 2)) == 1
