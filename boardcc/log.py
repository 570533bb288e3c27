"""The engine's log, in the layout of the seed's LE004 log.

Operators of the old system read and grep logs like
``[2011-04-26 21:31:04][信息][.\\DJBKChannelLine.cpp][618]->通道<2>信息:...``, so boardcc
writes every line as::

    [2026-01-05 09:00:00][信息][engine.py][123][通道<2>/RingOn/2 WAIT_ANSWER] text

time, level word, source file and line of the call site, then channel, signal and state
(SPEC C4: every channel event and state change is logged). It is plain `logging`:
`LogFormatter` makes the line from a record plus three optional attributes (``channel``,
``signal``, ``state``) and an optional ``wall_time`` for an engine running on a virtual
clock; `channel_log` attaches the channel attributes to every call through a
`logging.LoggerAdapter`; `setup_logging` installs a rotating UTF-8 file and the console on
the ``boardcc`` logger, under which every module's logger lives.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = [
    "LEVEL_WORDS",
    "LOG_FILE_NAME",
    "ChannelLog",
    "Language",
    "LogFormatter",
    "LogSetup",
    "channel_log",
    "language_from_environment",
    "setup_logging",
]

Language = Literal["zh", "en"]

LOG_FILE_NAME = "boardcc.log"

# The seed has only 信息 and 错误; DEBUG and WARNING get words of their own so that a grep
# for 错误 finds exactly the errors. CRITICAL is an error to an operator.
LEVEL_WORDS: Mapping[Language, Mapping[int, str]] = {
    "zh": {
        logging.DEBUG: "调试",
        logging.INFO: "信息",
        logging.WARNING: "警告",
        logging.ERROR: "错误",
        logging.CRITICAL: "错误",
    },
    "en": {
        logging.DEBUG: "DEBUG",
        logging.INFO: "INFO",
        logging.WARNING: "WARN",
        logging.ERROR: "ERROR",
        logging.CRITICAL: "ERROR",
    },
}

_CHANNEL_WORDS: Mapping[Language, str] = {"zh": "通道", "en": "channel"}

_ROOT_LOGGER = "boardcc"
# Handlers installed by setup_logging carry names with this prefix, so that a second call
# can find and replace them without any module-level state.
_HANDLER_PREFIX = "boardcc."

_INDENT = "    "

WallClock = Callable[[], dt.datetime]


def _check_language(language: str) -> Language:
    if language not in get_args(Language):
        raise ValueError(f"language must be 'zh' or 'en', not {language!r}")
    return language  # type: ignore[return-value]


def language_from_environment(environ: Mapping[str, str] | None = None) -> Language:
    """The log language the locale asks for.

    The first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set and not empty decides,
    as POSIX orders them: a value starting with ``zh`` (``zh_CN.UTF-8``) means Chinese,
    anything else, or none set, English.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read; `os.environ` by default.

    Returns
    -------
    {"zh", "en"}
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _level_word(words: Mapping[int, str], levelno: int) -> str:
    # A custom level takes the word of the nearest standard level below it.
    fitting = [level for level in words if level <= levelno]
    return words[max(fitting)] if fitting else words[logging.DEBUG]


class LogFormatter(logging.Formatter):
    """Formats records as LE004 lines.

    A line is ``[time][level][file][line][channel] text``:

    - *time* ``yyyy-mm-dd hh:mm:ss`` in local time: the record's ``wall_time`` attribute
      if it has one, else ``wall_clock()`` if given, else when the record was made. A
      naive datetime is taken as local time; an aware one is converted to local time.
    - *level* one of 调试, 信息, 警告, 错误 (English: DEBUG, INFO, WARN, ERROR).
    - *file* and *line* of the call site (the base name of the file).
    - *channel* ``通道<N>/signal/state`` (English ``channel<N>/signal/state``) from the
      record's ``channel``, ``signal`` and ``state`` attributes. A missing one is written
      ``-`` so that the parts keep their places (``通道<2>/-/-``, ``-/Alarm/-``); a record
      with none of them, a line not about a channel, has ``[-]``.

    Further lines of the message, an exception's traceback and a stack (``stack_info``)
    follow on the next lines, indented by four spaces, so that every line starting with
    ``[`` starts a record.

    Parameters
    ----------
    language : {"zh", "en"}
        Words for the levels and for "channel".
    wall_clock : callable returning datetime, optional
        The time of a record that carries no ``wall_time``: an engine on a virtual clock
        passes its clock here. It is read when the record is formatted, which for the
        handlers of `setup_logging` is while the logging call runs.

    Raises
    ------
    ValueError
        If `language` is neither ``"zh"`` nor ``"en"``.
    """

    def __init__(self, language: Language = "zh", *, wall_clock: WallClock | None = None) -> None:
        super().__init__()
        self.language: Language = _check_language(language)
        self.wall_clock = wall_clock
        self._level_words = LEVEL_WORDS[self.language]
        self._channel_word = _CHANNEL_WORDS[self.language]

    def record_time(self, record: logging.LogRecord) -> dt.datetime:
        """The local wall-clock time a record is stamped with (see the class docstring).

        Raises
        ------
        TypeError
            If the record's ``wall_time`` is not a `datetime.datetime`.
        """
        wall_time = getattr(record, "wall_time", None)
        if wall_time is None:
            if self.wall_clock is None:
                return dt.datetime.fromtimestamp(record.created)
            wall_time = self.wall_clock()
        if not isinstance(wall_time, dt.datetime):
            raise TypeError(f"wall_time must be a datetime, not {wall_time!r}")
        if wall_time.tzinfo is not None:
            return wall_time.astimezone().replace(tzinfo=None)
        return wall_time

    def channel_part(self, record: logging.LogRecord) -> str:
        """The text between the last pair of brackets: ``通道<2>/RingOn/2 WAIT_ANSWER``."""
        channel = getattr(record, "channel", None)
        signal = getattr(record, "signal", None)
        state = getattr(record, "state", None)
        if channel is None and signal is None and state is None:
            return "-"
        where = "-" if channel is None else f"{self._channel_word}<{channel}>"
        return "/".join(
            (where, "-" if signal is None else str(signal), "-" if state is None else str(state))
        )

    def format(self, record: logging.LogRecord) -> str:
        """The record as one LE004 line, plus indented lines for tracebacks.

        Parameters
        ----------
        record : logging.LogRecord

        Returns
        -------
        str
            Without a trailing newline (the handler adds it).
        """
        record.message = record.getMessage()
        time = self.record_time(record).strftime("%Y-%m-%d %H:%M:%S")
        level = _level_word(self._level_words, record.levelno)
        first, *more = record.message.split("\n")
        head = (
            f"[{time}][{level}][{record.filename}][{record.lineno}]"
            f"[{self.channel_part(record)}] {first}"
        )
        # The cached traceback text is shared with any other formatter, as logging does.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        tail = list(more)
        if record.exc_text:
            tail.append(record.exc_text)
        if record.stack_info:
            tail.append(self.formatStack(record.stack_info))
        if not tail:
            return head
        return head + "\n" + textwrap.indent("\n".join(tail), _INDENT)


class ChannelLog(logging.LoggerAdapter[logging.Logger]):
    """A logger that stamps every record with one channel's ``channel``/``signal``/``state``.

    Made by `channel_log`. ``extra=`` given to a single call is merged over the adapter's
    (``log.info("...", extra={"state": "3 PLAY"})``).

    The file and line on the record are those of the code calling ``info()`` and the
    rest: the adapter's own frames are in the logging package, which `logging.Logger`
    skips when it looks for the caller (Python 3.11 and later), so ``stacklevel`` means
    the same through the adapter as on a plain logger.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        """Merge the adapter's channel attributes under the call's own ``extra``."""
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


def channel_log(
    logger: logging.Logger,
    channel: int | None,
    signal: str | None = None,
    state: str | None = None,
) -> ChannelLog:
    """A logger for lines about one channel.

    Parameters
    ----------
    logger : logging.Logger
        Usually the module's logger, under ``boardcc``.
    channel : int or None
        The channel number shown as ``通道<N>``.
    signal : str, optional
        What happened, usually the event's name (``"RingOn"``).
    state : str, optional
        The channel's state as code and name (``"2 WAIT_ANSWER"``).

    Returns
    -------
    ChannelLog

    Examples
    --------
    >>> log = channel_log(logging.getLogger("boardcc.engine"), 2, "RingOn", "2 WAIT_ANSWER")
    >>> log.info("外线来电 incoming call: %s", "0426213067871129")
    """
    return ChannelLog(logger, {"channel": channel, "signal": signal, "state": state})


@dataclass(frozen=True, slots=True)
class LogSetup:
    """The handlers `setup_logging` installed; `close` removes and closes them.

    Attributes
    ----------
    logger : logging.Logger
        The ``boardcc`` logger they are on.
    handlers : tuple of logging.Handler
        The file handler (when a directory was given), then the console handler (when
        asked for).
    path : Path or None
        The log file.
    """

    logger: logging.Logger
    handlers: tuple[logging.Handler, ...]
    path: Path | None

    def close(self) -> None:
        """Remove the handlers from the logger and close them; safe to call twice."""
        for handler in self.handlers:
            self.logger.removeHandler(handler)
            handler.close()

    def __enter__(self) -> LogSetup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def setup_logging(
    directory: str | os.PathLike[str] | None = None,
    *,
    language: Language | None = None,
    level: int | str = "INFO",
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 10,
    console: bool = True,
    wall_clock: WallClock | None = None,
) -> LogSetup:
    """Send the ``boardcc`` loggers to a rotating log file and the console.

    Calling it again replaces the handlers of the previous call (closing them), so lines
    are never written twice.

    Parameters
    ----------
    directory : path, optional
        Where ``boardcc.log`` and its rotated copies (``boardcc.log.1`` ...) go; created if
        missing. Without it there is no file.
    language : {"zh", "en"}, optional
        Words of the level and channel parts; by default `language_from_environment`.
    level : int or str
        The ``boardcc`` logger's level (``"DEBUG"``, ``"INFO"``, ...).
    max_bytes : int
        The size at which the file is rotated; 0 never rotates.
    backups : int
        How many rotated files are kept.
    console : bool
        Also write to standard error.
    wall_clock : callable returning datetime, optional
        The time of records that carry no ``wall_time`` (see `LogFormatter`).

    Returns
    -------
    LogSetup

    Raises
    ------
    ValueError
        For an unknown language or level, or a negative `max_bytes` or `backups`.
    OSError
        If the directory cannot be created or the file opened.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be 0 or more, not {max_bytes}")
    if backups < 0:
        raise ValueError(f"backups must be 0 or more, not {backups}")
    formatter = LogFormatter(
        language_from_environment() if language is None else language, wall_clock=wall_clock
    )
    logger = logging.getLogger(_ROOT_LOGGER)
    logger.setLevel(level)
    for old in [h for h in logger.handlers if (h.name or "").startswith(_HANDLER_PREFIX)]:
        logger.removeHandler(old)
        old.close()

    handlers: list[logging.Handler] = []
    path = None
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / LOG_FILE_NAME
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        file_handler.set_name(_HANDLER_PREFIX + "file")
        handlers.append(file_handler)
    if console:
        console_handler = logging.StreamHandler(sys.stderr)
        console_handler.set_name(_HANDLER_PREFIX + "console")
        handlers.append(console_handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return LogSetup(logger, tuple(handlers), path)
