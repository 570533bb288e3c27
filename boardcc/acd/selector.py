"""Which agents a queue offers a call to, in what order: the strategies (SPEC A1).

Pure functions and one small memory per queue (round robin's last agent, top-down's place),
so every strategy is tested without an engine, with a seeded random generator. The ACD
(`boardcc.acd.acd`) gives the ready, idle members that may take the call now, as
`Candidate` rows, and offers to the first of the ranking (to all of them for ``ring_all``,
and one more every few seconds for ``ring_progressively``).

Tiers come before any strategy: a member of tier n is a candidate only once the caller has
waited (n - 1) x ``tier_wait_s``, and lower tiers rank first. Which caller an agent gets
when several wait (highest priority, then longest wait, across every queue the agent
serves) is `caller_order`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """A ready, idle member of the queue, as the strategies see it."""

    job: str
    position: int = 0  # place in the queue's member list (fixed and top-down orders)
    tier: int = 1
    weight: float = 1.0
    idle_since: float = 0.0  # engine seconds: when the agent last became free
    answered: int = 0  # calls answered today
    talk_s: float = 0.0  # talk time today
    skills: Mapping[str, int] = field(default_factory=dict)
    regions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Caller:
    """The call being placed, as the strategies see it."""

    number: str = ""
    skill: str | None = None  # business type chosen in the IVR
    region: str | None = None  # 归属地 of the number
    last_agent: str | None = None  # who served this number last (sticky)
    last_seen_s: float | None = None  # how long ago that was
    tried: tuple[str, ...] = ()  # agents this call has already rung, in order
    tried_position: int | None = None  # the member position of the last one
    priority: int = 0
    waited_s: float = 0.0


Ranker = Callable[["Memory", list[Candidate], Caller], list[Candidate]]


@dataclass(slots=True)
class Memory:
    """What a queue's strategy remembers between calls."""

    rng: random.Random
    last: int | None = None  # round robin: the member position of the last agent chosen
    sticky_s: float = 86400.0
    fallback: str = "longest_idle"


def eligible(
    candidates: Sequence[Candidate], waited_s: float, tier_wait_s: float
) -> list[Candidate]:
    """The candidates whose tier has come up after `waited_s` seconds of waiting."""
    return [c for c in candidates if waited_s >= (c.tier - 1) * tier_wait_s]


def rank(
    strategy: str, candidates: Sequence[Candidate], caller: Caller, memory: Memory
) -> list[Candidate]:
    """The candidates in the order the queue offers to them (lower tiers first)."""
    if not candidates:
        return []
    tiers = sorted({c.tier for c in candidates})
    out: list[Candidate] = []
    for tier in tiers:
        out += RANKERS[strategy](memory, [c for c in candidates if c.tier == tier], caller)
    return out


def chosen(strategy: str, memory: Memory, candidate: Candidate) -> None:
    """Tell the memory an offer went to `candidate` (round robin goes on after it)."""
    if strategy == "round_robin":
        memory.last = candidate.position


def _longest_idle(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    return sorted(cs, key=lambda c: (c.idle_since, c.position))


def _by_position(cs: list[Candidate]) -> list[Candidate]:
    return sorted(cs, key=lambda c: (c.position, c.job))


def _fixed_order(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    # 固定顺序: always from the top; an agent who let this call ring out goes last for it.
    ordered = _by_position(cs)
    return [c for c in ordered if c.job not in caller.tried] + [
        c for c in ordered if c.job in caller.tried
    ]


def _top_down(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    # From the top each time for a new call; a call that rang out goes on down the list
    # from the last agent it rang, wrapping round.
    ordered = _by_position(cs)
    return ordered if caller.tried_position is None else _after(ordered, caller.tried_position)


def _after(ordered: list[Candidate], position: int) -> list[Candidate]:
    """`ordered` (by position) rotated to start after `position`."""
    return [c for c in ordered if c.position > position] + [
        c for c in ordered if c.position <= position
    ]


def _round_robin(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    # 循环 with memory: the next member after the last one chosen by this queue.
    ordered = _by_position(cs)
    return ordered if m.last is None else _after(ordered, m.last)


def _fewest_calls(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    return sorted(cs, key=lambda c: (c.answered, c.idle_since, c.position))


def _least_talk(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    return sorted(cs, key=lambda c: (c.talk_s, c.idle_since, c.position))


def _random(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    out = _by_position(cs)
    m.rng.shuffle(out)
    return out


def _weighted_random(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    # Draw without replacement, each draw in proportion to the weights left.
    left = _by_position(cs)
    out: list[Candidate] = []
    while left:
        total = sum(c.weight for c in left)
        x = m.rng.random() * total
        for k, c in enumerate(left):
            x -= c.weight
            if x < 0 or k == len(left) - 1:
                out.append(left.pop(k))
                break
    return out


def _skill(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    # Agents with the skill, best level first (ties: longest idle); without it, none of
    # them, unless no candidate has the skill at all (then any, longest idle first).
    if caller.skill is None:
        return _longest_idle(m, cs, caller)
    skilled = [c for c in cs if c.skills.get(caller.skill, 0) > 0]
    if not skilled:
        return []
    return sorted(skilled, key=lambda c: (-c.skills[caller.skill or ""], c.idle_since, c.position))


def _sticky(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    rest = RANKERS[m.fallback](m, cs, caller)
    fresh = caller.last_seen_s is not None and caller.last_seen_s <= m.sticky_s
    if caller.last_agent is None or not fresh:
        return rest
    return [c for c in rest if c.job == caller.last_agent] + [
        c for c in rest if c.job != caller.last_agent
    ]


def _region(m: Memory, cs: list[Candidate], caller: Caller) -> list[Candidate]:
    rest = RANKERS[m.fallback](m, cs, caller)
    if caller.region is None:
        return rest
    return [c for c in rest if caller.region in c.regions] + [
        c for c in rest if caller.region not in c.regions
    ]


RANKERS: dict[str, Ranker] = {
    "ring_all": _longest_idle,
    "longest_idle": _longest_idle,
    "round_robin": _round_robin,
    "fixed_order": _fixed_order,
    "top_down": _top_down,
    "fewest_calls": _fewest_calls,
    "least_talk_time": _least_talk,
    "random": _random,
    "weighted_random": _weighted_random,
    "ring_progressively": _top_down,
    "skill": _skill,
    "sticky": _sticky,
    "region": _region,
}


def caller_order(key: tuple[int, float, int]) -> tuple[int, float, int]:
    """Sort key of a waiting call from (priority, joined at, sequence): highest priority
    first, then the longest waiting, then the first to arrive."""
    priority, joined, seq = key
    return (-priority, joined, seq)


# -- caller regions (归属地) ------------------------------------------------------------------


class Regions:
    """Caller number to region by the longest matching prefix (mobile number segments such
    as 1380010 and area codes such as 010, 0755), from a CSV of ``prefix,region`` lines."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)
        self.lengths = sorted({len(p) for p in self.table}, reverse=True)

    @classmethod
    def from_csv(cls, path: str) -> Regions:
        table: dict[str, str] = {}
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = [p.strip() for p in line.split(",")]
                if len(parts) < 2 or not parts[0].isdigit() or not parts[1]:
                    raise ValueError(f"{path}:{n}: expected 'prefix,region', got {line!r}")
                table[parts[0]] = parts[1]
        return cls(table)

    def of(self, number: str) -> str | None:
        # A mobile number dialled with a leading 0 from outside its region is the same phone.
        if number.startswith("01") and len(number) == 12:
            number = number[1:]
        for k in self.lengths:
            region = self.table.get(number[:k])
            if region is not None and len(number) > k:
                return region
        return None
