"""The queue strategies (boardcc.acd.selector), each on its own, with seeded random."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from boardcc.acd.selector import (
    RANKERS,
    Caller,
    Candidate,
    Memory,
    Regions,
    caller_order,
    chosen,
    eligible,
    rank,
)
from boardcc.acd.settings import STRATEGIES


def memory(seed: int = 1, **kw: object) -> Memory:
    return Memory(random.Random(seed), **kw)  # type: ignore[arg-type]


def jobs(cs: list[Candidate]) -> list[str]:
    return [c.job for c in cs]


A = Candidate("1001", position=0, idle_since=30.0, answered=5, talk_s=500.0)
B = Candidate("1002", position=1, idle_since=10.0, answered=2, talk_s=900.0)
C = Candidate("1003", position=2, idle_since=20.0, answered=9, talk_s=100.0)
ALL = [C, A, B]


def test_every_strategy_of_the_site_file_has_a_ranker() -> None:
    assert set(STRATEGIES) == set(RANKERS)


def test_longest_idle_first() -> None:
    assert jobs(rank("longest_idle", ALL, Caller(), memory())) == ["1002", "1003", "1001"]


def test_ring_all_offers_everyone_longest_idle_first() -> None:
    assert jobs(rank("ring_all", ALL, Caller(), memory())) == ["1002", "1003", "1001"]


def test_fixed_order_always_from_the_top() -> None:
    m = memory()
    for _ in range(3):
        assert jobs(rank("fixed_order", ALL, Caller(), m))[0] == "1001"


def test_fixed_order_puts_an_agent_who_let_this_call_ring_out_last() -> None:
    caller = Caller(tried=("1001",), tried_position=0)
    assert jobs(rank("fixed_order", ALL, caller, memory())) == ["1002", "1003", "1001"]


def test_top_down_goes_on_down_the_list_after_a_miss_and_wraps() -> None:
    m = memory()
    assert jobs(rank("top_down", ALL, Caller(), m)) == ["1001", "1002", "1003"]
    after_b = Caller(tried=("1001", "1002"), tried_position=1)
    assert jobs(rank("top_down", ALL, after_b, m)) == ["1003", "1001", "1002"]
    # The last agent rung is busy now (not a candidate): go on from its place.
    assert jobs(rank("top_down", [A, C], after_b, m)) == ["1003", "1001"]


def test_round_robin_remembers_where_it_stopped() -> None:
    m = memory()
    picks = []
    for _ in range(4):
        first = rank("round_robin", ALL, Caller(), m)[0]
        chosen("round_robin", m, first)
        picks.append(first.job)
    assert picks == ["1001", "1002", "1003", "1001"]
    # The next one is busy: the one after it.
    assert jobs(rank("round_robin", [A, C], Caller(), m)) == ["1003", "1001"]


def test_fewest_calls_then_least_talk_time() -> None:
    assert jobs(rank("fewest_calls", ALL, Caller(), memory())) == ["1002", "1001", "1003"]
    assert jobs(rank("least_talk_time", ALL, Caller(), memory())) == ["1003", "1001", "1002"]


def test_random_is_seeded_and_fair() -> None:
    assert jobs(rank("random", ALL, Caller(), memory(7))) == jobs(
        rank("random", ALL, Caller(), memory(7))
    )
    m = memory(3)
    firsts = Counter(rank("random", ALL, Caller(), m)[0].job for _ in range(3000))
    for job in ("1001", "1002", "1003"):
        assert firsts[job] == pytest.approx(1000, rel=0.1)


def test_weighted_random_follows_the_weights() -> None:
    heavy = Candidate("1009", position=3, weight=3.0)
    m = memory(11)
    firsts = Counter(
        rank("weighted_random", [A, B, heavy], Caller(), m)[0].job for _ in range(5000)
    )
    assert firsts["1009"] / 5000 == pytest.approx(0.6, abs=0.03)
    assert firsts["1001"] / 5000 == pytest.approx(0.2, abs=0.03)
    # Each ranking holds every candidate once.
    assert sorted(jobs(rank("weighted_random", [A, B, heavy], Caller(), m))) == [
        "1001",
        "1002",
        "1009",
    ]


def test_ring_progressively_orders_like_top_down() -> None:
    assert jobs(rank("ring_progressively", ALL, Caller(), memory())) == ["1001", "1002", "1003"]


def test_skill_best_level_first_and_only_the_skilled() -> None:
    a = Candidate("1001", skills={"billing": 3}, idle_since=5.0)
    b = Candidate("1002", skills={"billing": 7}, idle_since=9.0)
    c = Candidate("1003", skills={"sales": 9}, idle_since=1.0)
    d = Candidate("1004", skills={"billing": 7}, idle_since=2.0)
    ranked = rank("skill", [a, b, c, d], Caller(skill="billing"), memory())
    assert jobs(ranked) == ["1004", "1002", "1001"]
    assert rank("skill", [c], Caller(skill="billing"), memory()) == []
    # No skill asked: longest idle among all.
    assert jobs(rank("skill", [a, b, c], Caller(), memory())) == ["1003", "1001", "1002"]


def test_sticky_brings_the_caller_back_to_the_last_agent_within_the_window() -> None:
    m = memory(sticky_s=3600.0)
    back = Caller(number="13800000000", last_agent="1003", last_seen_s=600.0)
    assert jobs(rank("sticky", ALL, back, m))[0] == "1003"
    stale = Caller(number="13800000000", last_agent="1003", last_seen_s=7200.0)
    assert jobs(rank("sticky", ALL, stale, m))[0] == "1002"  # the fallback, longest idle


def test_region_serves_the_callers_region_first() -> None:
    bj = Candidate("1001", regions=frozenset({"北京"}), idle_since=50.0)
    sh = Candidate("1002", regions=frozenset({"上海"}), idle_since=10.0)
    anyone = Candidate("1003", idle_since=1.0)
    ranked = rank("region", [bj, sh, anyone], Caller(region="北京"), memory())
    assert jobs(ranked) == ["1001", "1003", "1002"]


def test_lower_tiers_first_and_higher_tiers_only_after_their_wait() -> None:
    t1 = Candidate("1001", tier=1, idle_since=50.0)
    t2 = Candidate("1002", tier=2, idle_since=1.0)
    t3 = Candidate("1003", tier=3, idle_since=0.0)
    both = [t1, t2, t3]
    assert jobs(eligible(both, waited_s=10.0, tier_wait_s=30.0)) == ["1001"]
    assert jobs(eligible(both, waited_s=30.0, tier_wait_s=30.0)) == ["1001", "1002"]
    assert jobs(rank("longest_idle", eligible(both, 61.0, 30.0), Caller(), memory())) == [
        "1001",
        "1002",
        "1003",
    ]


def test_callers_by_priority_then_longest_waiting() -> None:
    calls = {"a": (0, 100.0, 1), "b": (0, 50.0, 2), "c": (5, 200.0, 3), "d": (0, 50.0, 0)}
    assert sorted(calls, key=lambda k: caller_order(calls[k])) == ["c", "d", "b", "a"]


def test_regions_by_the_longest_prefix(tmp_path: Path) -> None:
    table = tmp_path / "regions.csv"
    table.write_text("# prefix,region\n010,北京\n0755,深圳\n1380010,北京\n138,移动\n", "utf-8")
    r = Regions.from_csv(str(table))
    assert r.of("01062345678") == "北京"
    assert r.of("075588886666") == "深圳"
    assert r.of("13800101234") == "北京"
    assert r.of("013800101234") == "北京"  # a mobile dialled with 0 from elsewhere
    assert r.of("13912345678") is None
    assert r.of("13812345678") == "移动"


def test_a_damaged_region_table_names_the_line(tmp_path: Path) -> None:
    table = tmp_path / "regions.csv"
    table.write_text("010,北京\nnot a line\n", "utf-8")
    with pytest.raises(ValueError, match=r"regions.csv:2: expected 'prefix,region'"):
        Regions.from_csv(str(table))


def test_the_shipped_sample_region_table_loads() -> None:
    from importlib.resources import files

    r = Regions.from_csv(str(files("boardcc") / "samples" / "regions.csv"))
    assert r.of("075512345678") == "深圳" and r.of("13800101234") == "北京"
