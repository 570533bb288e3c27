"""boardcc.log: LE004 lines, the channel adapter's call site, and the rotating log file."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from boardcc.log import (
    LOG_FILE_NAME,
    Language,
    LogFormatter,
    channel_log,
    language_from_environment,
    setup_logging,
)

NOON = dt.datetime(2026, 1, 5, 9, 0, 0)
NUMBER = "0426213067871129"


class _Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def _restore_boardcc_logger() -> Iterator[None]:
    logger = logging.getLogger("boardcc")
    level, handlers = logger.level, list(logger.handlers)
    yield
    for handler in [h for h in logger.handlers if h not in handlers]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level)


def _capture(
    language: Language = "zh", wall_clock: dt.datetime | None = NOON
) -> tuple[logging.Logger, _Lines]:
    logger = logging.getLogger("boardcc.test_log")
    logger.setLevel(logging.DEBUG)
    clock = None if wall_clock is None else (lambda: wall_clock)
    handler = _Lines(LogFormatter(language, wall_clock=clock))
    logger.addHandler(handler)
    return logger, handler


@pytest.fixture
def zh() -> Iterator[tuple[logging.Logger, _Lines]]:
    logger, handler = _capture("zh")
    yield logger, handler
    logger.removeHandler(handler)


def _here() -> int:
    """The line number of the caller."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def _record(
    attrs: Mapping[str, object] | None = None, *, msg: str = "x", level: int = logging.INFO
) -> logging.LogRecord:
    """A record made at line 9 of ``engine.py``, with `attrs` set on it as ``extra`` would."""
    record = logging.LogRecord("boardcc.engine", level, "/src/engine.py", 9, msg, None, None)
    record.__dict__.update(attrs or {})
    return record


def _read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# The line layout ----------------------------------------------------------------------


def test_chinese_line_is_the_seed_layout(zh: tuple[logging.Logger, _Lines]) -> None:
    logger, handler = zh
    log = channel_log(logger, 2, "RingOn", "2 WAIT_ANSWER")
    line = _here() + 1
    log.info("外线来电 incoming call: %s", NUMBER, extra={"wall_time": NOON})
    assert handler.lines == [
        f"[2026-01-05 09:00:00][信息][test_log.py][{line}][通道<2>/RingOn/2 WAIT_ANSWER] "
        f"外线来电 incoming call: {NUMBER}"
    ]


def test_english_line() -> None:
    logger, handler = _capture("en")
    try:
        log = channel_log(logger, 2, "RingOn", "2 WAIT_ANSWER")
        line = _here() + 1
        log.warning("no idle station")
    finally:
        logger.removeHandler(handler)
    assert handler.lines == [
        f"[2026-01-05 09:00:00][WARN][test_log.py][{line}][channel<2>/RingOn/2 WAIT_ANSWER] "
        "no idle station"
    ]


@pytest.mark.parametrize(
    ("level", "zh_word", "en_word"),
    [
        (logging.DEBUG, "调试", "DEBUG"),
        (logging.INFO, "信息", "INFO"),
        (logging.WARNING, "警告", "WARN"),
        (logging.ERROR, "错误", "ERROR"),
        (logging.CRITICAL, "错误", "ERROR"),
        (25, "信息", "INFO"),  # a custom level takes the word of the standard level below
        (5, "调试", "DEBUG"),
    ],
)
def test_level_words(level: int, zh_word: str, en_word: str) -> None:
    for language, word in (("zh", zh_word), ("en", en_word)):
        record = _record(level=level)
        line = LogFormatter(language, wall_clock=lambda: NOON).format(record)  # type: ignore[arg-type]
        assert line.startswith(f"[2026-01-05 09:00:00][{word}][")


@pytest.mark.parametrize(
    ("extra", "part"),
    [
        ({}, "-"),
        ({"channel": 3}, "通道<3>/-/-"),
        ({"channel": 0, "signal": "HookOff"}, "通道<0>/HookOff/-"),
        ({"channel": 7, "state": "1 IDLE"}, "通道<7>/-/1 IDLE"),
        ({"signal": "Alarm"}, "-/Alarm/-"),
        ({"channel": None, "signal": None, "state": None}, "-"),
    ],
)
def test_channel_bracket(extra: dict[str, object], part: str) -> None:
    record = _record(extra, msg="text")
    line = LogFormatter("zh", wall_clock=lambda: NOON).format(record)
    assert line == f"[2026-01-05 09:00:00][信息][engine.py][9][{part}] text"


def test_a_call_can_override_the_adapters_attributes(zh: tuple[logging.Logger, _Lines]) -> None:
    logger, handler = zh
    log = channel_log(logger, 4, "HookOff", "5 RINGING")
    log.info("answered", extra={"state": "6 CONNECTED"})
    log.info("again")
    assert handler.lines[0].endswith("[通道<4>/HookOff/6 CONNECTED] answered")
    assert handler.lines[1].endswith("[通道<4>/HookOff/5 RINGING] again")


def test_a_logger_without_the_adapter_has_no_channel(zh: tuple[logging.Logger, _Lines]) -> None:
    logger, handler = zh
    line = _here() + 1
    logger.error("board closed")
    assert handler.lines[0].endswith(f"[错误][test_log.py][{line}][-] board closed")


# The call site --------------------------------------------------------------------------


def _log_for_the_caller(log: logging.LoggerAdapter[logging.Logger]) -> None:
    log.info("on behalf of the caller", stacklevel=2)


@pytest.mark.parametrize("method", ["debug", "info", "warning", "error", "critical", "log"])
def test_file_and_line_are_the_callers_through_the_adapter(
    zh: tuple[logging.Logger, _Lines], method: str
) -> None:
    logger, handler = zh
    log = channel_log(logger, 1)
    if method == "log":
        line = _here() + 1
        log.log(logging.INFO, "here")
    else:
        line = _here() + 1
        getattr(log, method)("here")
    assert f"][test_log.py][{line}][通道<1>/-/-] here" in handler.lines[0]


def test_stacklevel_through_the_adapter_names_the_helpers_caller(
    zh: tuple[logging.Logger, _Lines],
) -> None:
    logger, handler = zh
    line = _here() + 1
    _log_for_the_caller(channel_log(logger, 1))
    assert f"][test_log.py][{line}][通道<1>/-/-] on behalf" in handler.lines[0]


def test_exception_from_the_adapter_names_the_call_site(zh: tuple[logging.Logger, _Lines]) -> None:
    logger, handler = zh
    try:
        raise RuntimeError("bad event")
    except RuntimeError:
        line = _here() + 1
        channel_log(logger, 5).exception("channel reset")
    assert f"[错误][test_log.py][{line}][通道<5>/-/-] channel reset" in handler.lines[0]


# Tracebacks and further lines -----------------------------------------------------------


def _fail() -> None:
    raise ZeroDivisionError("division by zero in a handler")


def test_traceback_follows_indented(zh: tuple[logging.Logger, _Lines]) -> None:
    logger, handler = zh
    try:
        _fail()
    except ZeroDivisionError:
        channel_log(logger, 2, "DTMF", "4 PLAYING").exception("error in channel")
    first, *rest = handler.lines[0].split("\n")
    assert first.endswith("[通道<2>/DTMF/4 PLAYING] error in channel")
    assert rest[0] == "    Traceback (most recent call last):"
    assert rest[-1] == "    ZeroDivisionError: division by zero in a handler"
    assert any("in _fail" in line for line in rest)
    assert all(line.startswith("    ") for line in rest if line)


def test_further_lines_of_a_message_and_stack_info_are_indented(
    zh: tuple[logging.Logger, _Lines],
) -> None:
    logger, handler = zh
    logger.info("routes:\nrule service\nrule night", stack_info=True)
    lines = handler.lines[0].split("\n")
    assert lines[0].endswith("[-] routes:")
    assert lines[1:3] == ["    rule service", "    rule night"]
    assert lines[3] == "    Stack (most recent call last):"
    assert all(line.startswith("    ") for line in lines[1:] if line)


# Time -----------------------------------------------------------------------------------


def test_wall_time_wins_over_the_clock_and_the_clock_over_the_record() -> None:
    created = dt.datetime(2020, 2, 2, 2, 2, 2).timestamp()
    record = _record({"created": created})
    clock = LogFormatter("zh", wall_clock=lambda: NOON)
    plain = LogFormatter("zh")
    assert plain.format(record).startswith("[2020-02-02 02:02:02]")
    assert clock.format(record).startswith("[2026-01-05 09:00:00]")
    record.wall_time = dt.datetime(2030, 3, 3, 3, 3, 3, 999_000)
    assert clock.format(record).startswith("[2030-03-03 03:03:03]")
    assert plain.format(record).startswith("[2030-03-03 03:03:03]")


@pytest.fixture
def beijing_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("beijing_time")
def test_an_aware_wall_time_is_shown_in_local_time() -> None:
    record = _record({"wall_time": dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)})
    assert LogFormatter("zh").format(record).startswith("[2026-01-05 09:00:00]")


def test_a_wall_time_that_is_not_a_datetime_is_refused() -> None:
    record = _record({"wall_time": 1767574800.0})
    with pytest.raises(TypeError, match=r"wall_time must be a datetime, not 1767574800\.0"):
        LogFormatter("zh").format(record)


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        LogFormatter("fr")  # type: ignore[arg-type]


# Language from the locale ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_ALL": "zh_CN.GB18030", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # set but empty is not set
    ],
)
def test_language_from_environment(environ: dict[str, str], language: str) -> None:
    assert language_from_environment(environ) == language


@pytest.mark.parametrize(("lang", "word"), [("zh_CN.UTF-8", "[信息]"), ("en_US.UTF-8", "[INFO]")])
def test_setup_takes_the_language_from_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, word: str
) -> None:
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    with setup_logging(tmp_path, console=False) as logs:
        logging.getLogger("boardcc.engine").info("started")
    assert logs.path is not None
    assert word in _read(logs.path)[0]


# setup_logging --------------------------------------------------------------------------


def test_file_is_utf8_with_chinese_text(tmp_path: Path) -> None:
    with setup_logging(tmp_path / "logs", language="zh", console=False, wall_clock=lambda: NOON):
        log = channel_log(logging.getLogger("boardcc.engine"), 2, "RingOn", "2 WAIT_ANSWER")
        line = _here() + 1
        log.info("外线来电:%s", NUMBER)
    raw = (tmp_path / "logs" / LOG_FILE_NAME).read_bytes()
    expected = (
        f"[2026-01-05 09:00:00][信息][test_log.py][{line}][通道<2>/RingOn/2 WAIT_ANSWER] "
        f"外线来电:{NUMBER}\n"
    )
    assert raw == expected.encode("utf-8")


def test_rotation_rotates(tmp_path: Path) -> None:
    with setup_logging(tmp_path, console=False, max_bytes=300, backups=2, wall_clock=lambda: NOON):
        log = logging.getLogger("boardcc.engine")
        for n in range(40):
            log.info("line %02d", n)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [LOG_FILE_NAME, f"{LOG_FILE_NAME}.1", f"{LOG_FILE_NAME}.2"]
    files = [
        tmp_path / f"{LOG_FILE_NAME}.2",
        tmp_path / f"{LOG_FILE_NAME}.1",
        tmp_path / LOG_FILE_NAME,
    ]
    assert all(path.stat().st_size <= 300 for path in files)
    kept = [int(line.rsplit(" ", 1)[1]) for path in files for line in _read(path)]
    assert kept == list(range(40 - len(kept), 40))  # the newest lines, in order, none lost
    assert len(kept) < 40


def test_setup_twice_does_not_duplicate_lines(tmp_path: Path) -> None:
    first = setup_logging(tmp_path, console=False)
    second = setup_logging(tmp_path, console=False, language="en")
    try:
        logging.getLogger("boardcc.engine").info("once")
        ours = [
            h
            for h in logging.getLogger("boardcc").handlers
            if (h.name or "").startswith("boardcc.")
        ]
        assert ours == list(second.handlers)
    finally:
        second.close()
    assert first.handlers[0] not in logging.getLogger("boardcc").handlers
    lines = _read(tmp_path / LOG_FILE_NAME)
    assert len(lines) == 1
    assert "[INFO]" in lines[0]


def test_a_second_setup_elsewhere_stops_writing_the_first_file(tmp_path: Path) -> None:
    setup_logging(tmp_path / "a", console=False)
    with setup_logging(tmp_path / "b", console=False):
        logging.getLogger("boardcc").info("where")
    assert _read(tmp_path / "a" / LOG_FILE_NAME) == []
    assert len(_read(tmp_path / "b" / LOG_FILE_NAME)) == 1


def test_console(capsys: pytest.CaptureFixture[str]) -> None:
    with setup_logging(language="en", wall_clock=lambda: NOON) as logs:
        channel_log(logging.getLogger("boardcc.engine"), 3).info("to the console")
    assert logs.path is None
    assert capsys.readouterr().err.endswith("[channel<3>/-/-] to the console\n")
    with setup_logging(console=False) as logs:
        logging.getLogger("boardcc.engine").info("nowhere")
    assert logs.handlers == ()
    assert capsys.readouterr().err == ""


def test_level(tmp_path: Path) -> None:
    with setup_logging(tmp_path, level="WARNING", console=False):
        log = logging.getLogger("boardcc.engine")
        log.info("quiet")
        log.warning("loud")
    lines = _read(tmp_path / LOG_FILE_NAME)
    assert len(lines) == 1
    assert lines[0].endswith("loud")


def test_close_removes_the_handlers_and_can_be_repeated(tmp_path: Path) -> None:
    logs = setup_logging(tmp_path, console=True)
    logs.close()
    logs.close()
    assert not any(h in logging.getLogger("boardcc").handlers for h in logs.handlers)
    logging.getLogger("boardcc.engine").info("after close")
    assert _read(tmp_path / LOG_FILE_NAME) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"language": "fr"}, "'fr'"),
        ({"max_bytes": -1}, "-1"),
        ({"backups": -2}, "-2"),
        ({"level": "LOUD"}, "LOUD"),
    ],
)
def test_bad_settings_are_refused_and_leave_logging_as_it_was(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with setup_logging(tmp_path / "good", console=False) as logs:
        with pytest.raises(ValueError, match=message):
            setup_logging(tmp_path / "bad", console=False, **kwargs)  # type: ignore[arg-type]
        assert all(h in logging.getLogger("boardcc").handlers for h in logs.handlers)
        assert not (tmp_path / "bad").exists()
