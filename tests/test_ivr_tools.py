"""`boardcc flow check | run | graph` and `boardcc replay --flow`."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

import pytest

from boardcc.cli import main
from boardcc.ivr_flows import FLOWS_DIR

SAMPLES = sorted(str(p) for p in FLOWS_DIR.glob("*.yaml"))


def test_flow_check_passes_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flow", "check", *SAMPLES]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(SAMPLES) and all(": ok, flow " in line for line in out)


def test_flow_check_reports_each_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "main_menu.yaml"
    text = (FLOWS_DIR / "main_menu.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("    next: welcome\n", "    next: welcom\n").replace(
            "    timeout_s: 4\n", "    timeout: 4\n"
        ),
        encoding="utf-8",
    )
    (tmp_path / "prompts").symlink_to(FLOWS_DIR / "prompts")
    (tmp_path / "self_service.yaml").write_text(
        (FLOWS_DIR / "self_service.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert main(["flow", "check", str(bad), *SAMPLES[:1]]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{bad}:14: nodes.language.timeout: unknown field 'timeout' for a select_language node "
        "(fields: prompt, options, language, timeout_s, max_tries, next)",
        f"{bad}:15: nodes.language.next: no node 'welcom' (nodes: language, welcome, menu, "
        "self_service, to_agents, ring_agents, agents_busy, bye)",
    ]
    assert ": ok, flow after_hours" in captured.out


def test_flow_run_prints_the_path_prompts_keys_and_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["flow", "run", str(FLOWS_DIR / "survey.yaml"), "--keys", "4"]) == 0
    out = capsys.readouterr().out
    rows = [" ".join(line.split()[2:]) for line in out.splitlines()[1:]]
    assert rows == [
        "call start 13812345678",
        "call answer 13812345678",
        "node survey.ask (collect)",
        "prompt zh/survey_ask",
        "key 4",
        "var score=4",
        "node survey.thanks (set)",
        "var survey=done",
        "node survey.say_thanks (play)",
        "prompt zh/survey_thanks",
        "prompt zh/goodbye",
        "node survey.bye (hang_up)",
        "end hang_up",
        "call end answered",
    ]


def test_flow_run_of_after_hours_at_night_reads_the_opening_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(FLOWS_DIR / "after_hours.yaml")
    assert main(["flow", "run", path, "--time", "2026-01-05T21:15"]) == 0
    out = capsys.readouterr().out
    assert "number    八点三十分" in out and "node      after_hours.closed (play)" in out


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_flow_graph(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flow", "graph", str(FLOWS_DIR / "main_menu.yaml"), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "mermaid":
        assert out.startswith("flowchart TD\n")
        assert "  n_menu -- key 2 --> n_to_agents\n" in out
        assert "  n_ring_agents -- failed --> n_agents_busy\n" in out
    else:
        assert out.startswith('digraph "main_menu" {')
        assert '  "menu" -> "to_agents" [label="key 2"];' in out


def test_replay_with_a_flow_takes_the_recorded_keys_through_the_menus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with as_file(files("boardcc.samples") / "line-sample.wav") as sample:
        assert main(["replay", str(sample), "--flow", str(FLOWS_DIR / "main_menu.yaml")]) == 0
    out = capsys.readouterr().out
    assert "IVR node: main_menu.language (select_language)" in out
    # The recorded caller keys 1 (Chinese), then 0 while the welcome plays: straight to
    # an agent, the business type "service".
    assert "IVR key: 1" in out and "IVR language: zh" in out
    assert "IVR var: skill=service" in out
    assert "IVR transfer: ring_group" in out


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_a_tts_node_speaks_through_espeak(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    flow = tmp_path / "say.yaml"
    (tmp_path / "prompts" / "zh").mkdir(parents=True)
    flow.write_text(
        "start: say\nnodes:\n  say:\n    type: tts\n    text: 'Your number is ${ANI}'\n"
        "    next: end\n  end:\n    type: hang_up\n",
        encoding="utf-8",
    )
    assert main(["flow", "run", str(flow)]) == 0
    out = capsys.readouterr().out
    assert "prompt    tts " in out and "end       hang_up" in out
