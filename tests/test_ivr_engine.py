"""IVR flows end to end on the simulated board, on the virtual clock.

A simulated caller rings in, hears the flow's prompts (the very samples of the prompt
files reach the line), presses keys, and the flow branches: menus with invalid keys and
timeouts, digits collected and checked, numbers read back, lookups that answer, fail or
hang, transfers to a desk phone, the hang-up handler, sub-flows, language switching, and a
flow changed while a call is in it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from boardcc.acd.passwords import hash_password
from boardcc.cdr import Cdr
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, Pause, Press, SimBoard, Speak, WaitSilence, WaitSound
from boardcc.dsp import read_audio, write_audio
from boardcc.engine import Engine
from boardcc.ivr.host import register_function, unregister_function
from boardcc.ivr.numbers import words_for
from boardcc.ivr_flows import FLOWS_DIR
from boardcc.machines import StationState, TrunkState
from boardcc.yamlfile import ConfigFileError

MONDAY_10AM = dt.datetime(2026, 1, 5, 10, 0, 0)
NAMES = ("hello", "menu", "short", "sorry", "again", "one", "two", "ask", "bye", "thanks")


class Store:
    def __init__(self) -> None:
        self.last: dict[str, Cdr] = {}

    def put(self, cdr: Cdr) -> None:
        self.last[cdr.call_id] = cdr


def clip(seed: int, seconds: float = 0.6) -> np.ndarray:
    """A prompt of its own: noise nobody else sends, so it can be found in the line audio."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, 3000, int(seconds * 8000)), -20000, 20000).astype(np.int16)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """A flow folder whose prompts are distinct noises (zh) and their negatives (en)."""
    for k, name in enumerate(NAMES):
        for lang, sign in (("zh", 1), ("en", -1)):
            folder = tmp_path / "prompts" / lang
            folder.mkdir(parents=True, exist_ok=True)
            write_audio(folder / f"{name}.wav", sign * clip(k))
    return tmp_path


def prompt(flows: Path, name: str, lang: str = "zh") -> np.ndarray:
    return read_audio(flows / "prompts" / lang / f"{name}.wav").samples[0]


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / 8000)[np.argmax(spec)])


def heard_at(line: np.ndarray, samples: np.ndarray) -> list[int]:
    """Where `samples` occur, exactly, in `line`."""
    starts = np.flatnonzero(line[: line.size - samples.size + 1] == samples[0])
    return [int(i) for i in starts if np.array_equal(line[i : i + samples.size], samples)]


class Rig:
    """A site with two trunks into one flow and three desk phones, and what the IVR said."""

    def __init__(self, flows: Path, flow_text: str | None = None, name: str = "f", **site: Any):
        if flow_text is not None:
            (flows / f"{name}.yaml").write_text(textwrap.dedent(flow_text), encoding="utf-8")
        config = load_site(
            {
                "trunk_groups": [{"name": "main", "channels": "0-1", "access_number": "4008"}],
                "stations": [
                    {"channel": 2, "extension": "8001"},
                    {"channel": 3, "extension": "8002"},
                    {"channel": 4, "extension": "8003"},
                ],
                "inbound": [{"name": "ivr", "steps": [{"ivr": name}]}],
                "flows": str(flows),
            }
            | site
        )
        self.board = SimBoard(trunks=2, stations=3, seed=3)
        self.store = Store()
        try:
            self.engine = Engine(config, self.board, store=self.store, start_time=MONDAY_10AM)
        except Exception:
            self.board.close()
            raise
        self.trace: list[tuple[int, str, str]] = []
        self.engine.subscribe(self._note)

    def _note(self, event: dict[str, Any]) -> None:
        if event["type"] == "ivr":
            self.trace.append((event["channel"], event["what"], event["detail"]))

    def said(self, what: str, channel: int = 0) -> list[str]:
        return [d for ch, w, d in self.trace if w == what and ch == channel]

    def call(self, script: list[Any], trunk: int = 0, at: float = 0.0, **kw: Any) -> None:
        self.board.incoming_call(trunk, at=at, caller_id="13812345678", script=script, **kw)

    def run(self, seconds: float) -> None:
        self.engine.run_for(seconds)

    def cdr(self) -> Cdr:
        (only,) = self.store.last.values()
        return only

    def __enter__(self) -> Rig:
        self.board.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.shutdown()
        self.board.__exit__(*exc)


MENU = """\
start: hello
nodes:
  hello:
    type: play
    prompts: hello
    interruptible: false
    next: menu
  menu:
    type: menu
    prompt: menu
    short_prompt: short
    invalid_prompt: sorry
    timeout_prompt: again
    timeout_s: 3
    max_invalid: 2
    max_timeouts: 2
    options:
      "1": one
      "2": {next: two, set: {skill: billing}}
    fallback: bye
  one:
    type: play
    prompts: one
    next: bye
  two:
    type: play
    prompts: two
    next: bye
  bye:
    type: play
    prompts: bye
    next: end
  end:
    type: hang_up
"""


def test_the_caller_hears_the_prompt_files_and_the_menu_branches(flows: Path) -> None:
    with Rig(flows, MENU) as rig:
        rig.call([WaitSilence(), Press("2"), Pause(30)])
        rig.run(20)
        line = rig.board.heard(0)
        answered = rig.board.trunk(0).calls[0].answered
        assert answered is not None
        hello, menu, two = (heard_at(line, prompt(flows, n)) for n in ("hello", "menu", "two"))
        # The prompts' own samples reach the line, one after the other, hello from the answer.
        assert len(hello) == len(menu) == len(two) == 1
        assert 0 <= hello[0] - answered < 0.1 * 8000
        assert hello[0] < menu[0] < two[0]
        assert rig.said("node") == [
            "f.hello (play)",
            "f.menu (menu)",
            "f.two (play)",
            "f.bye (play)",
            "f.end (hang_up)",
        ]
        assert rig.engine.idle()
        cdr = rig.cdr()
        assert cdr.extra["var.skill"] == "billing"  # the business type, kept with the call
        assert cdr.disposition == "answered" and cdr.hung_up_by == "engine"
        stats = rig.engine.ivr.stats.of("f", "menu")
        assert (stats["entered"], stats["option 2"], stats["completed"]) == (1, 1, 1)
        rows = rig.engine.ivr.stats_json()
        assert {
            "flow": "f",
            "node": "menu",
            "counts": {"completed": 1, "entered": 1, "option 2": 1},
        } in rows


def test_a_key_during_an_interruptible_prompt_stops_it_and_counts(flows: Path) -> None:
    with Rig(flows, MENU) as rig:
        # Keys pressed while the menu plays: it stops at once and 1 is taken.
        rig.call([WaitSound(), Pause(0.8), Press("1"), Pause(30)])
        rig.run(12)
        line = rig.board.heard(0)
        assert heard_at(line, prompt(flows, "menu")) == []  # cut short
        assert heard_at(line, prompt(flows, "one"))
        assert rig.said("node")[2] == "f.one (play)"


def test_keys_typed_ahead_go_through_the_next_menus(flows: Path) -> None:
    two_menus = MENU.replace('"1": one', '"1": menu2').replace(
        "  one:\n",
        '  menu2:\n    type: menu\n    prompt: again\n    options: {"3": one}\n'
        "    fallback: bye\n  one:\n",
    )
    with Rig(flows, two_menus.replace("interruptible: false", "interruptible: true")) as rig:
        rig.call([WaitSound(), Press("13"), Pause(30)])  # during the greeting
        rig.run(10)
        assert rig.said("node")[:4] == [
            "f.hello (play)",
            "f.menu (menu)",
            "f.menu2 (menu)",
            "f.one (play)",
        ]
        assert "zh/menu" not in rig.said("prompt")  # the first menu was not read out


def test_invalid_keys_and_timeouts_then_the_fallback(flows: Path) -> None:
    with Rig(flows, MENU) as rig:
        rig.call([WaitSilence(), Press("7"), Pause(60)])
        rig.run(45)
        assert rig.said("prompt") == [
            "zh/hello",
            "zh/menu",
            "zh/sorry",
            "zh/short",  # an invalid key: sorry, and the short menu
            "zh/again",
            "zh/short",  # nothing for 3 s: again, and the short menu
            "zh/bye",  # a second timeout: the fallback
        ]
        stats = rig.engine.ivr.stats.of("f", "menu")
        assert (stats["invalid"], stats["timeout"]) == (1, 2)
        assert rig.engine.idle()


COLLECT = """\
start: ask
variables: {amount: ""}
nodes:
  ask:
    type: collect
    prompt: ask
    var: code
    min_length: 3
    max_length: 6
    pattern: "[1-9][0-9]*"
    invalid_prompt: sorry
    max_tries: 3
    next: cents
    fallback: end
  cents:
    type: set
    vars: {amount: "${code}.05"}
    next: read
  read:
    type: play_number
    value: "${amount}"
    as: money
    next: end
  end:
    type: hang_up
"""


def test_digits_collected_checked_and_read_back_as_money(flows: Path) -> None:
    for k, word in enumerate(sorted(words_for({"money"}, "zh"))):
        write_audio(flows / "prompts" / "zh" / f"{word}.wav", clip(100 + k, 0.2))
    with Rig(flows, COLLECT) as rig:
        # 12 is too short (min 3); 0123 breaks the pattern; 1203# is taken.
        rig.call(
            [
                WaitSilence(),
                Press("12#"),
                WaitSilence(),
                Press("0123#"),
                WaitSilence(),
                Press("1203#"),
                Pause(30),
            ]
        )
        rig.run(40)
        assert rig.said("var") == ["code=1203", "amount=1203.05"]
        assert rig.said("number") == ["一千两百零三元零五分"]
        words = ["n1", "n1000", "liang", "n100", "n0", "n3", "yuan", "n0", "n5", "fen"]
        played = rig.said("prompt")
        assert played == [
            "zh/ask",
            "zh/sorry",
            "zh/ask",
            "zh/sorry",
            "zh/ask",
            *(f"zh/{w}" for w in words),
        ]
        line = rig.board.heard(0)
        starts = [heard_at(line, prompt(flows, w))[0] for w in ("n1000", "yuan", "fen")]
        assert starts == sorted(starts)


LOOKUP = """\
start: find
nodes:
  find:
    type: lookup
    function: account
    params: {phone: "${ANI}"}
    save: {name: name}
    timeout_s: 2
    next: one
    not_found: two
    error: sorry
  one:
    type: play
    prompts: one
    next: end
  two:
    type: play
    prompts: two
    next: end
  sorry:
    type: play
    prompts: sorry
    next: end
  end:
    type: hang_up
"""


@pytest.fixture
def account_function():
    release = threading.Event()
    outcome: dict[str, Any] = {}

    def account(phone: str) -> dict[str, str] | None:
        outcome["asked"] = phone
        if outcome.get("hang"):
            release.wait(10)
        if outcome.get("fail"):
            raise ConnectionError("database down")
        return outcome.get("row")

    register_function("account", account)
    yield outcome
    release.set()
    unregister_function("account")


@pytest.mark.parametrize(
    ("setup", "branch", "var"),
    [
        ({"row": {"name": "ZHANG"}}, "one", ["name=ZHANG"]),
        ({"row": None}, "two", []),
        ({"fail": True}, "sorry", []),
        ({"hang": True}, "sorry", []),  # no answer within timeout_s: the error branch
    ],
)
def test_lookup_success_nothing_found_failure_and_timeout(
    flows: Path,
    account_function: dict[str, Any],
    setup: dict[str, Any],
    branch: str,
    var: list[str],
) -> None:
    account_function.update(setup)
    with Rig(flows, LOOKUP) as rig:
        rig.engine.ivr.virtual_wait_s = 0.5 if setup.get("hang") else 30.0
        rig.call([Pause(30)])
        rig.run(12)
        assert account_function["asked"] == "13812345678"  # ANI, bound as a parameter
        assert rig.said("node")[1] == f"f.{branch} (play)"
        assert rig.said("var") == var
        assert heard_at(rig.board.heard(0), prompt(flows, branch))
        assert rig.engine.idle()


def test_a_sql_lookup_binds_its_parameters(flows: Path) -> None:
    db = flows / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE accounts (phone TEXT, balance TEXT)")
        conn.execute("INSERT INTO accounts VALUES ('13812345678', '12.50')")
        conn.execute("INSERT INTO accounts VALUES ('x'' OR ''1''=''1', '99')")
    text = (
        LOOKUP.replace("function: account", "query: balance")
        .replace("save: {name: name}", "save: {name: balance}")
        .replace(
            "start: find\n",
            f"start: find\ndatabase: sqlite:///{db}\nqueries:\n"
            "  balance: SELECT balance FROM accounts WHERE phone = :phone\n",
        )
    )
    with Rig(flows, text) as rig:
        rig.call([Pause(30)])
        rig.run(10)
        assert rig.said("lookup") == [] and rig.said("var") == ["name=12.50"]


HANDLER = """\
start: ask
variables: {score: "", survey: started}
on_hangup: gone
nodes:
  ask:
    type: collect
    prompt: ask
    var: score
    max_length: 1
    terminator: ""
    pattern: "[1-5]"
    next: thanks
    fallback: end
  thanks:
    type: play
    prompts: thanks
    next: end
  end:
    type: hang_up
  gone:
    type: set
    vars: {survey: "abandoned at ${DATE}"}
    next: over
  over:
    type: hang_up
"""


def test_the_hang_up_handler_runs_when_the_caller_leaves_mid_flow(flows: Path) -> None:
    with Rig(flows, HANDLER) as rig:
        rig.call([Pause(0.3), HangUp()])
        rig.run(10)
        assert rig.engine.idle()
        cdr = rig.cdr()
        assert cdr.extra["var.survey"] == "abandoned at 20260105"
        assert cdr.disposition == "abandoned" and cdr.hung_up_by == "caller"
        assert rig.engine.ivr.stats.of("f", "ask")["hang_up"] == 1


def test_a_survey_score_is_kept_with_the_call(flows: Path) -> None:
    with Rig(flows, HANDLER) as rig:
        rig.call([WaitSilence(), Press("4"), Pause(30)])
        rig.run(12)
        cdr = rig.cdr()
        assert (cdr.extra["var.score"], cdr.extra["var.survey"]) == ("4", "started")


TRANSFER = """\
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options:
      "0": {next: agent, set: {skill: service}}
    fallback: agent
  agent:
    type: transfer
    station: "8002"
    ring_s: 8
    failed: sorry
  sorry:
    type: play
    prompts: sorry
    next: end
  end:
    type: hang_up
"""


def test_transfer_to_a_station_connects_the_caller_to_the_agent(flows: Path) -> None:
    with Rig(flows, TRANSFER) as rig:
        rig.board.phone(3).auto_answer(2, [Speak(tone=1300, seconds=8.0), Pause(1), HangUp()])
        rig.call([WaitSilence(), Press("0"), Speak(tone=700, seconds=20)])
        rig.run(14)
        assert rig.engine.machines[0].state is TrunkState.CONNECTED
        assert rig.engine.machines[3].state is StationState.CONNECTED
        (call,) = rig.engine.calls.values()
        assert call.vars["skill"] == "service"  # for the ACD: the business type chosen
        rig.run(10)
        cdr = rig.cdr()
        assert cdr.station == "sim/3" and cdr.disposition == "answered"


def test_a_transfer_nobody_answers_goes_back_to_the_flow(flows: Path) -> None:
    with Rig(flows, TRANSFER) as rig:
        rig.call([WaitSilence(), Press("0"), Pause(60)])
        rig.run(30)
        assert rig.said("transfer") == ["station 8002", "failed: nobody answered"]
        assert rig.said("prompt")[-1] == "zh/sorry"
        assert heard_at(rig.board.heard(0), prompt(flows, "sorry"))
        assert rig.engine.idle()
        assert rig.board.phone(3).rings >= 1


def test_language_selection_switches_the_prompt_set(flows: Path) -> None:
    text = """\
    start: lang
    languages: [zh, en]
    nodes:
      lang:
        type: select_language
        prompt: menu
        options: {"1": zh, "2": en}
        next: hello
      hello:
        type: play
        prompts: hello
        next: end
      end:
        type: hang_up
    """
    with Rig(flows, text) as rig:
        rig.call([WaitSilence(), Press("2"), Pause(30)])
        rig.run(10)
        assert rig.said("prompt") == ["zh/menu", "en/hello"]
        line = rig.board.heard(0)
        assert heard_at(line, prompt(flows, "hello", "en"))
        assert not heard_at(line, prompt(flows, "hello", "zh"))


def test_a_sub_flow_is_called_and_returns(flows: Path) -> None:
    (flows / "sub.yaml").write_text(
        "start: s\nnodes:\n  s:\n    type: play\n    prompts: two\n    next: r\n"
        "  r:\n    type: return\n",
        encoding="utf-8",
    )
    text = """\
    start: c
    nodes:
      c:
        type: call
        flow: sub
        next: one
      one:
        type: play
        prompts: one
        next: end
      end:
        type: hang_up
    """
    with Rig(flows, text) as rig:
        rig.call([Pause(30)])
        rig.run(10)
        assert rig.said("node") == [
            "f.c (call)",
            "sub.s (play)",
            "sub.r (return)",
            "f.one (play)",
            "f.end (hang_up)",
        ]


def test_reload_mid_call_keeps_the_call_on_its_version(flows: Path) -> None:
    with Rig(flows, MENU) as rig:
        rig.call([WaitSilence(), WaitSilence(), Pause(1), Press("1"), Pause(30)], trunk=0)
        rig.run(3)  # call 1 is in the menu of version 1
        changed = MENU.replace("    prompts: one\n", "    prompts: thanks\n")
        path = flows / "f.yaml"
        path.write_text(changed, encoding="utf-8")
        stamp = path.stat().st_mtime_ns + 10**9
        import os

        os.utime(path, ns=(stamp, stamp))
        rig.call([WaitSilence(), WaitSilence(), Press("1"), Pause(30)], trunk=1, at=4.0)
        rig.run(20)
        # Call 1 finishes on version 1 (prompt one), call 2 runs version 2 (thanks).
        assert "zh/one" in rig.said("prompt", 0) and "zh/thanks" not in rig.said("prompt", 0)
        assert "zh/thanks" in rig.said("prompt", 1) and "zh/one" not in rig.said("prompt", 1)
        # A broken version is never loaded: the error is kept, version 2 keeps running.
        path.write_text(changed.replace("next: end", "next: nowhere"), encoding="utf-8")
        os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
        rig.trace.clear()
        rig.call([WaitSilence(), WaitSilence(), Press("1"), Pause(30)], trunk=0, at=30.0)
        rig.run(20)
        assert "zh/thanks" in rig.said("prompt", 0)
        assert "nodes.bye.next: no node 'nowhere'" in rig.engine.ivr.registry.errors["f"]


def test_access_numbers_and_working_hours_choose_the_flow(flows: Path) -> None:
    one = (
        "start: a\nnodes:\n  a:\n    type: play\n    prompts: one\n    next: b\n"
        "  b:\n    type: hang_up\n"
    )
    (flows / "care.yaml").write_text(one, encoding="utf-8")
    (flows / "night.yaml").write_text(one.replace("one", "two"), encoding="utf-8")
    site = {
        "trunk_groups": [
            {"name": "service", "channels": [0], "access_number": "400800888"},
            {"name": "care", "channels": [1], "access_number": "400800999"},
        ],
        "periods": {"day": {"start": "08:30", "end": "17:30"}},
        "inbound": [
            {"name": "care", "access_number": "400800999", "steps": [{"ivr": "care"}]},
            {"name": "service", "period": "day", "steps": [{"ivr": "f"}]},
            {"name": "night", "steps": [{"ivr": "night"}]},
        ],
    }
    (flows / "f.yaml").write_text(MENU, encoding="utf-8")
    with Rig(flows, **site) as rig:
        rig.call([Pause(30)], trunk=0)
        rig.call([Pause(30)], trunk=1)
        rig.run(6)
        assert rig.said("node", 0)[0] == "f.hello (play)"
        assert rig.said("node", 1)[0] == "care.a (play)"
        rig.engine.started_at -= dt.timedelta(hours=12)  # the same line at night
        rig.run(60)
        rig.call([Pause(30)], trunk=0, at=70.0)
        rig.run(10)
        assert "night.a (play)" in rig.said("node", 0)


def test_a_site_naming_a_broken_flow_does_not_start(flows: Path) -> None:
    (flows / "f.yaml").write_text(MENU.replace("next: menu", "next: manu"), encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"nodes\.hello\.next: no node 'manu'"):
        Rig(flows)


def test_the_self_service_sample_reads_the_balance_from_the_database(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    for f in ("main_menu.yaml", "self_service.yaml"):
        (folder / f).write_text((FLOWS_DIR / f).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "prompts").symlink_to(FLOWS_DIR / "prompts")
    with sqlite3.connect(folder / "shop.db") as conn:
        conn.execute("CREATE TABLE accounts (phone TEXT, balance TEXT)")
        conn.execute("CREATE TABLE orders (order_no TEXT, status TEXT, shipped TEXT)")
        conn.execute("INSERT INTO accounts VALUES ('13812345678', '1005.20')")
        conn.execute("INSERT INTO orders VALUES ('20260001', 'shipped', '20260103')")
    with Rig(folder, name="main_menu") as rig:
        # Chinese, self service, balance; then order 20260001#; then back and hang up.
        rig.call(
            [
                WaitSilence(),
                Press("1"),
                WaitSilence(),
                WaitSilence(),
                Press("1"),
                WaitSilence(),
                Press("1"),
                WaitSilence(ms=1500),
                Press("2"),
                WaitSilence(),
                Press("20260001#"),
                WaitSilence(ms=1500),
                Press("*"),
                WaitSilence(),
                HangUp(),
            ]
        )
        rig.run(120)
        assert rig.said("number") == ["一千零五元两角", "二零二六年一月三日"]
        assert rig.said("var") == [
            "balance=1005.20",
            "order_no=20260001",
            "status=shipped",
            "shipped=20260103",
        ]
        assert "self_service.back (return)" in rig.said("node")
        assert rig.engine.idle()


VOICEMAIL = """\
start: hello
nodes:
  hello:
    type: play
    prompts: hello
    interruptible: false
    next: message
  message:
    type: voicemail
    box: "${target}"
    failed: sorry
  sorry:
    type: play
    prompts: sorry
    next: end
  end:
    type: hang_up
variables: {target: "8001"}
"""


@pytest.mark.parametrize("box", ["8001", "9999"])
def test_a_flow_hands_the_caller_to_voicemail(flows: Path, box: str) -> None:
    from boardcc.recording.recorder import Recorder
    from boardcc.store import CdrStore
    from boardcc.voicemail.service import Voicemail

    (flows / "f.yaml").write_text(VOICEMAIL.replace('"8001"', f'"{box}"'), encoding="utf-8")
    prompts = {}
    for name, k in (("vm_unavailable", 0), ("vm_review", 1), ("vm_saved", 2)):
        write_audio(flows / f"{name}.wav", clip(50 + k))
        prompts[name] = str(flows / f"{name}.wav")
    rig = Rig(
        flows,
        prompts=prompts,
        recording={"folder": str(flows / "rec")},
        voicemail={"folder": str(flows / "vm"), "boxes": [{"box": "8001"}]},
    )
    store = CdrStore(flows / "cc.db")
    store.start()
    recorder = Recorder(rig.engine, rig.engine.config.recording)
    voicemail = Voicemail(rig.engine, rig.engine.config.voicemail, store.engine)
    try:
        with rig:
            rig.call(
                [
                    WaitSilence(ms=1500),
                    Speak(tone=700, seconds=3),
                    Press("#"),
                    Pause(0.3),
                    Press("1"),
                    Pause(5),
                ]
            )
            rig.run(25)
            assert rig.said("voicemail") == [box]
            listing = voicemail.store.listing("8001")
            if box == "8001":
                (message,) = listing
                assert message.caller == "13812345678"
                assert rig.said("transfer") == []
            else:  # no such box: the flow's failed branch
                assert listing == []
                assert rig.said("transfer") == [
                    "failed: no voicemail box '9999' / 没有语音信箱 9999"
                ]
                assert rig.said("prompt")[-1] == "zh/sorry"
    finally:
        voicemail.close()
        recorder.close()
        store.close()


SECRET = hash_password("4321", n=2**10)  # cheap for tests
QUEUE = """\
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options:
      "1": {next: queue, set: {skill: billing}}
      "2": {next: queue, set: {skill: sales}}
    fallback: queue
  queue:
    type: transfer
    queue: service
    priority: 3
    failed: end
  end:
    type: hang_up
"""


def test_the_business_type_chosen_in_the_flow_routes_the_caller_through_the_acd(
    flows: Path,
) -> None:
    secret = SECRET
    agents = [
        {
            "job": job,
            "password": secret,
            "station": ext,
            "groups": ["service"],
            "skills": skills,
            "permissions": ["answer_queue"],
        }
        for job, ext, skills in (("1001", "8001", {"sales": 5}), ("1002", "8002", {"billing": 5}))
    ]
    queues = [{"name": "service", "groups": ["service"], "strategy": "skill"}]
    with Rig(flows, QUEUE, agents=agents, queues=queues) as rig:
        handed: list[tuple[Any, ...]] = []
        enqueue = rig.engine.enqueue

        def noted(channel: int, queue: str, **kw: Any) -> None:  # records, then the real one
            handed.append((channel, queue, kw))
            enqueue(channel, queue, **kw)

        rig.engine.enqueue = noted  # type: ignore[method-assign]
        for job in ("1001", "1002"):
            rig.engine.acd.login(job, "4321", None, "api")
        rig.board.phone(2).auto_answer(1, [Pause(20)])
        rig.board.phone(3).auto_answer(1, [Speak(tone=1300, seconds=20)])
        rig.call([WaitSilence(), Press("1"), Speak(tone=700, seconds=30)])
        rig.run(12)
        assert handed == [
            (0, "service", {"priority": 3, "skill": "billing", "data": {"skill": "billing"}})
        ]
        assert rig.engine.machines[0].state is TrunkState.CONNECTED
        assert rig.engine.machines[3].state is StationState.CONNECTED  # 8002: billing
        assert rig.engine.machines[2].state is StationState.IDLE
        (call,) = rig.engine.calls.values()
        assert call.ivr is None and call.cdr.extra["var.skill"] == "billing"
        assert call.cdr.extra["agent"] == "1002"
        assert rig.said("transfer") == ["queue service"]


def test_a_queue_the_site_lacks_is_refused_at_load(flows: Path) -> None:
    queues = [{"name": "care", "groups": ["service"]}]
    agents = [{"job": "1001", "password": SECRET, "station": "8001", "groups": ["service"]}]
    with pytest.raises(ConfigFileError, match=r"no queue 'service' in the site \(queues: care\)"):
        Rig(flows, QUEUE, queues=queues, agents=agents)


OUTSIDE = """\
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options: {"9": out}
    fallback: end
  out:
    type: transfer
    number: "95588"
    trunk_group: main
    failed: sorry
  sorry:
    type: play
    prompts: sorry
    next: end
  end:
    type: hang_up
"""


@pytest.mark.parametrize("kind", ["answer", "busy"])
def test_transfer_to_an_outside_number_on_another_trunk(flows: Path, kind: str) -> None:
    from boardcc.drivers.sim import Callee

    with Rig(flows, OUTSIDE) as rig:
        rig.board.directory["95588"] = Callee(
            kind, rings=1, script=(Speak(tone=1300, seconds=6.0), HangUp())
        )
        rig.call([WaitSilence(), Press("9"), Speak(tone=700, seconds=30)])
        rig.run(12)
        out = rig.board.trunk(1).calls
        assert [c.number for c in out] == ["95588"]  # dialled on the group's idle trunk
        if kind == "answer":
            assert rig.engine.machines[0].state is TrunkState.CONNECTED
            assert rig.engine.machines[1].state is TrunkState.CONNECTED
            t = rig.engine.now / 8000
            assert peak_hz(rig.board.heard(1, t - 2, t)) == pytest.approx(700, abs=5)
            assert peak_hz(rig.board.heard(0, t - 2, t)) == pytest.approx(1300, abs=5)
            rig.run(20)  # the callee hangs up: both trunks are released
            assert rig.engine.idle()
            cdr = rig.cdr()
            assert cdr.extra["outside"] == "95588" and cdr.disposition == "answered"
        else:
            assert rig.said("transfer")[-1] == "failed: busy"
            assert rig.said("prompt")[-1] == "zh/sorry"
            rig.run(10)
            assert rig.engine.idle()
