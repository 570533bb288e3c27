"""Call routing: which inbound rule takes a call, and what an outbound number becomes.

Inbound (SPEC C5): a forced rule wins; otherwise the first rule whose access number and
trunk group (those it names) match and whose period covers the time (holidays by the
holiday list) takes the call. Outbound (SPEC C6): the rule of the station's group gives
the outside-line prefix, the barred prefixes, the number rewrites and the trunk group,
hunted sequentially, round robin with memory, or at random. Pure functions over the site
configuration, so they are tested without an engine.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from boardcc.config import InboundRule, OutboundRule, SiteConfig, TrunkGroup


class NoRoute(Exception):
    """An outbound number cannot be placed; the reason is for the CDR and the log."""


def inbound_rule(
    site: SiteConfig, group: TrunkGroup | None, when: dt.datetime
) -> InboundRule | None:
    """The rule that takes a call arriving on a trunk of `group` at `when` (the site's
    local wall-clock time: periods and holidays are read from its hour and date)."""
    for rule in site.inbound:
        if rule.forced and _matches(rule, group):
            return rule
    for rule in site.inbound:
        if rule.forced or not _matches(rule, group):
            continue
        holiday = when.date() in site.holidays
        if (rule.holidays is True and not holiday) or (rule.holidays is False and holiday):
            continue
        if rule.period is not None and not site.periods[rule.period].covers(when):
            continue
        return rule
    return None


def _matches(rule: InboundRule, group: TrunkGroup | None) -> bool:
    if rule.trunk_group is not None and (group is None or group.name != rule.trunk_group):
        return False
    return rule.access_number is None or (
        group is not None and group.access_number == rule.access_number
    )


@dataclass(frozen=True, slots=True)
class Outbound:
    """An outbound number as it will be dialled, and where from."""

    number: str
    rule: OutboundRule


def outbound_rule(site: SiteConfig, station_group: str) -> OutboundRule | None:
    for rule in site.outbound:
        if rule.station_group == station_group:
            return rule
    return None


def place(site: SiteConfig, station_group: str, dialled: str, *, prefixed: bool) -> Outbound:
    """What to dial for `dialled` from a station of `station_group`.

    `prefixed`: the number was dialled on the phone and must start with the outside-line
    prefix (hard dial); a soft dial gives the bare number.
    """
    rule = outbound_rule(site, station_group)
    if rule is None:
        raise NoRoute(f"station group {station_group!r} may not call out")
    number = dialled
    if prefixed:
        if not number.startswith(rule.prefix):
            raise NoRoute(f"{dialled} does not start with the outside-line prefix {rule.prefix}")
        number = number[len(rule.prefix) :]
    if not number or not number.isdigit():
        raise NoRoute(f"{dialled!r} is not a number to dial")
    for barred in rule.barred:
        if number.startswith(barred):
            raise NoRoute(f"{number} is barred for {station_group} (prefix {barred})")
    for rw in rule.rewrite:
        if re.match(rw.match, number):
            number = rw.prepend + number[rw.strip :]
            break
    return Outbound(number, rule)


class Hunter:
    """Picks an idle trunk of a group: sequential, round robin with memory, or random."""

    def __init__(self, seed: int = 0) -> None:
        self._last: dict[str, int] = {}
        self._rng = random.Random(seed)

    def pick(
        self, rule: OutboundRule, trunks: Sequence[int], idle: Callable[[int], bool]
    ) -> int | None:
        free = [t for t in trunks if idle(t)]
        if not free:
            return None
        if rule.hunting == "sequential":
            return free[0]
        if rule.hunting == "random":
            return self._rng.choice(free)
        # The next idle trunk after the last one taken, in the group's order, wrapping round.
        last = self._last.get(rule.trunk_group)
        start = trunks.index(last) + 1 if last is not None and last in trunks else 0
        idle_now = set(free)
        chosen = next(t for t in [*trunks[start:], *trunks[:start]] if t in idle_now)
        self._last[rule.trunk_group] = chosen
        return chosen
