"""The flow language's validator: every mistake a site's staff can make in a flow file is
reported with the file, the line and the reason, and a flow with any is never loaded."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from boardcc.dsp import write_audio
from boardcc.ivr.flow import Context, load_flow
from boardcc.ivr_flows import FLOWS_DIR
from boardcc.yamlfile import ConfigFileError

PROMPTS = ("hello", "menu", "sorry", "bye")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for lang in ("zh", "en"):
        (tmp_path / "prompts" / lang).mkdir(parents=True)
        for name in PROMPTS:
            write_audio(tmp_path / "prompts" / lang / f"{name}.wav", np.full(800, 1000, np.int16))
    return tmp_path


def problems(folder: Path, text: str, context: Context | None = None) -> list[str]:
    path = folder / "f.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        load_flow(path, context)
    return [line.removeprefix(f"{path}:") for line in str(info.value).splitlines()]


GOOD = """\
start: hello
nodes:
  hello:
    type: play
    prompts: hello
    next: menu
  menu:
    type: menu
    prompt: menu
    options: {"1": bye, "2": hello}
    fallback: bye
  bye:
    type: hang_up
"""


def test_a_good_flow_loads_with_its_prompt_files(folder: Path) -> None:
    (folder / "f.yaml").write_text(GOOD, encoding="utf-8")
    flow = load_flow(folder / "f.yaml")
    assert flow.name == "f" and flow.start == "hello" and flow.languages == ["zh"]
    assert flow.nodes["menu"].line == 7
    assert flow.prompt_file("zh", "menu") == folder / "prompts" / "zh" / "menu.wav"
    assert flow.nodes["menu"]["timeout_s"] == 5.0  # defaults filled in


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    type: play\n",
            "    type: playy\n",
            "4: nodes.hello.type: unknown node type 'playy'; types are: play, tts, menu, "
            "collect, play_number, select_language, set, compare, lookup, transfer, "
            "voicemail, call, return, hang_up",
        ),
        (
            "    fallback: bye\n",
            "    fallback: bye\n    timout_s: 3\n",
            "12: nodes.menu.timout_s: unknown field 'timout_s' for a menu node (fields: prompt, "
            "short_prompt, options, invalid_prompt, timeout_prompt, timeout_s, max_invalid, "
            "max_timeouts, var, interruptible, fallback)",
        ),
        (
            "    next: menu\n",
            "    next: mneu\n",
            "6: nodes.hello.next: no node 'mneu' (nodes: hello, menu, bye)",
        ),
        (
            '{"1": bye, "2": hello}',
            '{"1": bye, "2": helo}',
            "10: nodes.menu.options.2: no node 'helo' (nodes: hello, menu, bye)",
        ),
        (
            "    prompt: menu\n",
            "    prompt: menu\n    timeout_s: -1\n",
            "10: nodes.menu.timeout_s: seconds > 0, got -1",
        ),
        (
            "    prompts: hello\n",
            "    prompts: helo\n",
            "5: nodes.hello.prompts: prompt 'helo' has no file for language zh (looked for "
            "{folder}/prompts/zh/helo.wav and other audio suffixes)",
        ),
        ("start: hello\n", "start: hi\n", "1: start: no node 'hi' (nodes: hello, menu, bye)"),
        (
            "    fallback: bye\n",
            "",
            "7: nodes.menu: a menu node needs 'fallback'",
        ),
        (
            '{"1": bye, "2": hello}',
            '{"1": bye, "x": hello}',
            "10: nodes.menu.options.x: 'x' is not a key (0-9, *, #; quote * and #)",
        ),
        (
            "start: hello\n",
            "start: hello\nlanguages: [zh, fr]\n",
            "2: languages: a list of languages among zh, en",
        ),
        (
            "start: hello\n",
            "start: hello\nlanguage: [zh]\n",
            "2: language: unknown key; a flow has: flow, description, languages, prompts, "
            "start, on_hangup, variables, database, queries, nodes",
        ),
    ],
)
def test_each_mistake_names_line_key_and_reason(
    folder: Path, old: str, new: str, expected: str
) -> None:
    assert GOOD.count(old) == 1
    assert problems(folder, GOOD.replace(old, new)) == [expected.format(folder=folder)]


def test_a_prompt_missing_in_one_language_of_the_flow(folder: Path) -> None:
    (folder / "prompts" / "en" / "menu.wav").unlink()
    text = GOOD.replace("start: hello\n", "start: hello\nlanguages: [zh, en]\n")
    assert problems(folder, text) == [
        f"10: nodes.menu.prompt: prompt 'menu' has no file for language en (looked for "
        f"{folder}/prompts/en/menu.wav and other audio suffixes)"
    ]


def test_a_damaged_prompt_file_is_named_at_the_node_that_plays_it(folder: Path) -> None:
    (folder / "prompts" / "zh" / "menu.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (problem,) = problems(folder, GOOD)
    assert problem.startswith("9: nodes.menu.prompt: prompt file menu.wav cannot be played: ")


def test_unreachable_nodes_and_loops_without_a_way_out(folder: Path) -> None:
    text = """\
    start: hello
    nodes:
      hello:
        type: play
        prompts: hello
        next: menu
      menu:
        type: menu
        prompt: menu
        options: {"1": hello}
        fallback: hello
      orphan:
        type: hang_up
    """
    assert problems(folder, text) == [
        "3: nodes.hello: loop without a way out: no path from 'hello' reaches a hang_up, "
        "transfer, voicemail or return",
        "7: nodes.menu: loop without a way out: no path from 'menu' reaches a hang_up, "
        "transfer, voicemail or return",
        "12: nodes.orphan: node 'orphan' is unreachable: no path from start leads here",
    ]


def test_a_loop_of_nodes_that_never_wait_spins_for_ever(folder: Path) -> None:
    text = """\
    start: a
    nodes:
      a:
        type: set
        vars: {x: "1"}
        next: b
      b:
        type: compare
        value: "${x}"
        cases:
          - {equals: "2", next: end}
        default: a
      end:
        type: hang_up
    """
    assert problems(folder, text) == [
        "3: nodes.a: loop a -> b -> a never waits for the caller (only set/compare/call "
        "nodes): it would spin for ever"
    ]


def test_bad_patterns_ranges_and_unknown_variables(folder: Path) -> None:
    text = """\
    start: ask
    nodes:
      ask:
        type: collect
        prompt: menu
        var: code
        pattern: "[0-9+"
        min_length: 4
        max_length: 2
        next: check
        fallback: end
      check:
        type: compare
        value: "${cdoe}"
        cases:
          - {range: [5, 1], next: end}
          - {pattern: "(", next: end}
          - {equals: "1", empty: true, next: end}
        default: end
      end:
        type: hang_up
    """
    assert problems(folder, text) == [
        "7: nodes.ask.pattern: bad pattern '[0-9+': unterminated character set at position 0",
        "8: nodes.ask.min_length: min_length is more than max_length",
        "14: nodes.check.value: unknown variable 'cdoe': declare it under variables: or set "
        "it first",
        "16: nodes.check.cases.0.range: a range is [low, high] with low <= high, got [5, 1]",
        "17: nodes.check.cases.1.pattern: bad pattern '(': missing ), unterminated subpattern "
        "at position 0",
        "18: nodes.check.cases.2: a case has exactly one test of equals, range, pattern, empty",
    ]


def test_lookups_name_their_query_and_bind_exactly_its_parameters(folder: Path) -> None:
    text = """\
    start: find
    queries:
      balance: SELECT balance FROM accounts WHERE phone = :phone AND kind = :kind
    nodes:
      find:
        type: lookup
        query: balance
        params: {phone: "${ANI}"}
        save: {balance: balance}
        next: end
        error: end
      other:
        type: lookup
        query: balanse
        function: f
        next: end
        error: end
      end:
        type: hang_up
    """
    assert problems(folder, text) == [
        "8: nodes.find.params: query 'balance' takes :kind, :phone; params give phone",
        "12: nodes.other: a lookup has exactly one of query: (SQL) or function:",
        "14: nodes.other.query: no query 'balanse' under queries: (balance)",
        "15: nodes.other.function: no lookup function 'f' (none registered)",
    ]


def test_transfers_to_what_the_site_or_build_lacks(folder: Path) -> None:
    text = """\
    start: a
    nodes:
      a:
        type: transfer
        station: "8009"
        failed: b
      b:
        type: transfer
        queue: sales
        failed: c
      c:
        type: transfer
        number: "01088888888"
        failed: d
      d:
        type: voicemail
    """
    assert problems(folder, text, Context(stations={"8001"})) == [
        "5: nodes.a.station: no station with extension '8009' in the site",
        "9: nodes.b.queue: transfer to queue 'sales': this build has no ACD queues "
        "(本版本没有排队功能)",
        "11: nodes.c: a transfer to a number needs trunk_group: (the trunks to dial on)",
        "15: nodes.d: voicemail not available in this build (本版本没有语音信箱)",
    ]
    assert problems(folder, text, Context(acd=True, queues={"care"}, voicemail=True))[0] == (
        "9: nodes.b.queue: no queue 'sales' in the site (queues: care)"
    )


def test_the_hang_up_handler_cannot_play_to_a_caller_who_has_gone(folder: Path) -> None:
    text = GOOD + "  gone:\n    type: play\n    prompts: bye\n    next: bye\non_hangup: gone\n"
    assert problems(folder, text) == [
        "14: nodes.gone: the hang-up handler reaches 'gone', a play node, but the caller has gone"
    ]


def test_tts_without_espeak_is_refused_clearly(folder: Path) -> None:
    text = GOOD.replace("    type: hang_up\n", "    type: tts\n    text: hi\n    next: menu\n")
    assert "a tts node needs espeak-ng, which is not installed" in "\n".join(
        problems(folder, text, Context(espeak=False))
    )


def test_yaml_mistakes_and_numbers_without_quotes(folder: Path) -> None:
    assert problems(folder, "start: [a\n")[0].startswith("2: not valid YAML")
    text = GOOD.replace(
        "    type: hang_up\n",
        "    type: play_number\n    value: 12\n    as: money\n    next: menu\n",
    )
    quotes, words = problems(folder, text)
    assert (
        quotes
        == '14: nodes.bye.value: write numbers in quotes ("12"): YAML read this one as a number'
    )
    # The prompt set has none of the words that reading money needs.
    assert words.startswith(
        f"15: nodes.bye.as: reading numbers in zh needs prompt files in {folder}/prompts/zh "
        "for: fen, jiao, liang, minus, n0, n1, n10, n100,"
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in FLOWS_DIR.glob("*.yaml")))
def test_the_shipped_sample_flows_are_valid(name: str) -> None:
    context = Context(stations={"8001", "8002", "8003"}, voicemail=True)
    flow = load_flow(FLOWS_DIR / f"{name}.yaml", context)
    assert flow.languages == ["zh", "en"]
