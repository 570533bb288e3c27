"""Caller ID messages: the data link layer that Bell 202 and V.23 caller ID share.

An exchange says who is calling in one short message (SPEC D2). Bellcore GR-30-CORE and
ETSI EN 300 659-3 frame it the same way, whatever the modem underneath:

    message type | message length | body (length bytes) | checksum

The checksum is the two's complement of the modulo-256 sum of every byte before it, so the
sum of a whole message is zero modulo 256. The body is either a single data message (SDMF,
fixed layout: GR-30 type 0x04, ``MMDDHHMM`` and the number or an absence code; 0x06, message
waiting) or a multiple data message (MDMF, a list of ``type, length, value`` parameters: the
GR-30 types 0x80 and 0x82, which are also EN 300 659-3's Call Setup and Message Waiting
Indicator messages, and EN 300 659-3's 0x86 Advice of Charge and 0x89 Short Message).

This module turns field values into message bytes (`encode_message`) and message bytes back
into field values (`parse_message`), with no signal processing, so that both directions can
be tested byte for byte and used on their own. `CallerId` is what the receivers report; its
`fields` keep every parameter as sent, so nothing an exchange sends is lost even when this
module does not interpret it.

References: Telcordia GR-30-CORE (SDMF, MDMF, parameter types 0x01-0x08, 0x0B);
ETSI EN 300 659-3 §5 (message types and parameter codes); ETSI EN 300 659-1 (absence
reasons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum


class MessageType(IntEnum):
    """Message types (GR-30-CORE; ETSI EN 300 659-3 Table 2)."""

    SDMF_CALLER_ID = 0x04
    SDMF_MESSAGE_WAITING = 0x06
    CALL_SETUP = 0x80
    MESSAGE_WAITING = 0x82
    ADVICE_OF_CHARGE = 0x86
    SHORT_MESSAGE = 0x89


class Parameter(IntEnum):
    """MDMF parameter types (GR-30-CORE for 0x01-0x08 and 0x0B, which ETSI EN 300 659-3 shares;
    the others are EN 300 659-3's). Parameters not listed are kept as raw bytes all the same.
    """

    DATE_TIME = 0x01
    NUMBER = 0x02  # calling line identity
    CALLED_NUMBER = 0x03  # ETSI called line identity; GR-30 dialable directory number
    NUMBER_ABSENCE = 0x04  # reason for absence of the calling line identity
    NAME = 0x07  # calling party name
    NAME_ABSENCE = 0x08  # reason for absence of the calling party name
    VISUAL_INDICATOR = 0x0B  # message waiting on (0xFF) or off (0x00)
    MESSAGE_ID = 0x0D
    COMPLEMENTARY_NUMBER = 0x10
    CALL_TYPE = 0x11
    MESSAGE_SYSTEM_STATUS = 0x13  # network message system status: messages waiting
    FORWARDED_CALL_TYPE = 0x15
    CALLING_USER_TYPE = 0x16
    REDIRECTING_NUMBER = 0x1A
    CHARGE = 0x20
    ADDITIONAL_CHARGE = 0x21
    CALL_DURATION = 0x23


#: Message types the receivers accept, with the `format` they report.
FORMATS: dict[int, str] = {
    MessageType.SDMF_CALLER_ID: "sdmf",
    MessageType.SDMF_MESSAGE_WAITING: "mwi",
    MessageType.CALL_SETUP: "mdmf",
    MessageType.MESSAGE_WAITING: "mwi",
    MessageType.ADVICE_OF_CHARGE: "mdmf",
    MessageType.SHORT_MESSAGE: "mdmf",
}

#: Absence reasons: 'O' out of area / unavailable, 'P' private (withheld). ETSI EN 300 659-3
#: uses the same two letters; any other letter a network sends is reported as 'O'.
ABSENCE_REASONS = ("O", "P")

#: The SDMF message waiting bodies (GR-30-CORE): three 0x42 to set the indicator, three 0x6F
#: to clear it.
SDMF_MWI_ON = b"BBB"
SDMF_MWI_OFF = b"ooo"

#: The MDMF visual indicator values (GR-30-CORE; EN 300 659-3 reserves 0x01-0xFE).
MWI_ON = 0xFF
MWI_OFF = 0x00


@dataclass(frozen=True, slots=True)
class CallerId:
    """One caller ID, as a receiver decoded it.

    Attributes
    ----------
    channel : int
        Channel index within the receiver's block.
    number, name : str or None
        Calling number and name as sent (bytes read as Latin-1, so nothing is lost).
    datetime : str or None
        ``MMDDHHMM`` as sent.
    number_absence, name_absence : str or None
        ``"O"`` (unavailable, out of area) or ``"P"`` (private) when the number or name is
        withheld.
    call_type : int or None
        ETSI EN 300 659-3 call type parameter (1 voice call, 2 ring-back-when-free call,
        0x81 message waiting call...).
    redirecting_number : str or None
        ETSI EN 300 659-3 redirecting number; for DTMF caller ID the diverting number.
    message_waiting : bool or None
        For message waiting messages: indicator on (True) or off (False).
    fields : tuple of (int, bytes)
        Every parameter in the order sent, raw. An SDMF message is given as the MDMF
        parameters it carries (date-time 0x01, number 0x02 or absence 0x04, indicator 0x0B
        with the three body bytes); DTMF caller ID likewise (number 0x02, absence 0x04 with
        the information code digits, redirecting number 0x1A).
    standard : str
        ``"bell202"``, ``"v23"`` or ``"dtmf"``.
    format : str
        ``"sdmf"``, ``"mdmf"``, ``"mwi"`` (message types 0x06 and 0x82) or ``"dtmf"``.
    message_type : int or None
        The message type byte (None for DTMF).
    checksum_ok : bool
        FSK: the checksum verified; DTMF: the string had its start and end codes.
    damaged : bool
        Something failed (checksum, framing, truncation, a malformed body): every field
        present holds what was recovered and may be wrong.
    start, end : int
        Sample where the caller ID signal began (the channel seizure, when there is one) and
        the sample after its end, counted from the start of the channel's stream.
    """

    channel: int
    number: str | None
    name: str | None
    datetime: str | None
    number_absence: str | None
    name_absence: str | None
    call_type: int | None
    redirecting_number: str | None
    message_waiting: bool | None
    fields: tuple[tuple[int, bytes], ...]
    standard: str
    format: str
    message_type: int | None
    checksum_ok: bool
    damaged: bool
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Message:
    """A caller ID message read back from its bytes by `parse_message`.

    Attributes
    ----------
    message_type : int
        The type byte.
    length : int
        The length byte: how many body bytes the message declares.
    body : bytes
        The body bytes present (fewer than `length` if the message is truncated).
    complete : bool
        The whole body and the checksum are present.
    checksum_ok : bool
        Complete and the checksum verifies.
    well_formed : bool
        The body has the layout its type requires: SDMF date and number, the parameters of
        an MDMF body exactly filling it, a recognised message waiting body; and the
        parameters whose contents are known look right: a date-time of eight digits,
        numbers and absence reasons of printable ASCII (names may be in any code).
    fields, format, number, name, datetime, number_absence, name_absence, call_type, \
redirecting_number, message_waiting
        As in `CallerId`.
    """

    message_type: int
    length: int
    body: bytes
    complete: bool
    checksum_ok: bool
    well_formed: bool
    fields: tuple[tuple[int, bytes], ...]
    format: str
    number: str | None
    name: str | None
    datetime: str | None
    number_absence: str | None
    name_absence: str | None
    call_type: int | None
    redirecting_number: str | None
    message_waiting: bool | None


def checksum(data: bytes) -> int:
    """Two's complement of the modulo-256 sum of `data` (GR-30-CORE, EN 300 659-3 §5.1)."""
    return -sum(data) & 0xFF


def encode_message(
    *,
    number: str | None = None,
    name: str | None = None,
    datetime: str | None = None,
    number_absence: str | None = None,
    name_absence: str | None = None,
    call_type: int | None = None,
    redirecting_number: str | None = None,
    message_waiting: bool | None = None,
    extra_fields: Sequence[tuple[int, bytes]] = (),
    format: str = "mdmf",
    checksum_error: bool = False,
) -> bytes:
    """The bytes of one caller ID message: type, length, body, checksum.

    Parameters
    ----------
    number, name : str, optional
        Calling number and name, printable ASCII.
    datetime : str, optional
        ``MMDDHHMM``, eight digits. Required by SDMF.
    number_absence, name_absence : {"O", "P"}, optional
        Why the number or name is not given: unavailable or private.
    call_type : int, optional
        ETSI call type parameter (0x11), 0-255.
    redirecting_number : str, optional
        ETSI redirecting number parameter (0x1A).
    message_waiting : bool, optional
        Makes a message waiting message: SDMF type 0x06 or MDMF type 0x82 with the visual
        indicator parameter (0x0B).
    extra_fields : sequence of (int, bytes)
        More MDMF parameters, sent as given after the others.
    format : {"mdmf", "sdmf", "mwi"}
        ``"sdmf"``: type 0x04 (or 0x06 with `message_waiting`); ``"mdmf"``: type 0x80 (or
        0x82 with `message_waiting`); ``"mwi"``: type 0x82, `message_waiting` required.
    checksum_error : bool
        Send a checksum one off (for tests of the receivers).

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        A value out of range, a field the chosen format cannot carry, a number and its
        absence reason both given, or a body over 255 bytes; the message names the field.
    """
    if format not in ("mdmf", "sdmf", "mwi"):
        raise ValueError(f"format must be 'mdmf', 'sdmf' or 'mwi', got {format!r}")
    given = {
        "number": number,
        "name": name,
        "datetime": datetime,
        "number_absence": number_absence,
        "name_absence": name_absence,
        "call_type": call_type,
        "redirecting_number": redirecting_number,
        "extra_fields": tuple(extra_fields) or None,
    }
    if number is not None and number_absence is not None:
        raise ValueError(f"give number or number_absence, not both: {number!r}, {number_absence!r}")
    if name is not None and name_absence is not None:
        raise ValueError(f"give name or name_absence, not both: {name!r}, {name_absence!r}")
    if format == "mwi" and message_waiting is None:
        raise ValueError("format 'mwi' needs message_waiting=True or False")
    if message_waiting is not None and format == "sdmf":
        _refuse(given, set(), "an SDMF message waiting message")
        body = SDMF_MWI_ON if message_waiting else SDMF_MWI_OFF
        return _frame(MessageType.SDMF_MESSAGE_WAITING, body, checksum_error)
    params: list[tuple[int, bytes]] = []
    if message_waiting is not None:
        _refuse(given, {"datetime", "extra_fields"}, "an MDMF message waiting message")
        if datetime is not None:
            params.append((Parameter.DATE_TIME, _datetime(datetime)))
        indicator = MWI_ON if message_waiting else MWI_OFF
        params.append((Parameter.VISUAL_INDICATOR, bytes([indicator])))
        params += _extra(extra_fields)
        return _frame(MessageType.MESSAGE_WAITING, _parameters(params), checksum_error)
    if format == "sdmf":
        _refuse(given, {"number", "number_absence", "datetime"}, "an SDMF caller ID message")
        if datetime is None:
            raise ValueError("an SDMF caller ID message needs datetime ('MMDDHHMM')")
        if number is not None:
            tail = _ascii(number, "number")
        elif number_absence is not None:
            tail = _absence(number_absence, "number_absence")
        else:
            raise ValueError("an SDMF caller ID message needs number or number_absence")
        return _frame(MessageType.SDMF_CALLER_ID, _datetime(datetime) + tail, checksum_error)
    if datetime is not None:
        params.append((Parameter.DATE_TIME, _datetime(datetime)))
    if number is not None:
        params.append((Parameter.NUMBER, _ascii(number, "number")))
    if number_absence is not None:
        params.append((Parameter.NUMBER_ABSENCE, _absence(number_absence, "number_absence")))
    if name is not None:
        params.append((Parameter.NAME, _ascii(name, "name")))
    if name_absence is not None:
        params.append((Parameter.NAME_ABSENCE, _absence(name_absence, "name_absence")))
    if call_type is not None:
        if not 0 <= call_type <= 255:
            raise ValueError(f"call_type must be 0-255, got {call_type}")
        params.append((Parameter.CALL_TYPE, bytes([call_type])))
    if redirecting_number is not None:
        redirecting = _ascii(redirecting_number, "redirecting_number")
        params.append((Parameter.REDIRECTING_NUMBER, redirecting))
    params += _extra(extra_fields)
    if not params:
        raise ValueError("an MDMF caller ID message needs at least one parameter")
    return _frame(MessageType.CALL_SETUP, _parameters(params), checksum_error)


def parse_message(data: bytes | bytearray | Sequence[int]) -> Message:
    """Read a caller ID message from its bytes, as far as they go.

    Parameters
    ----------
    data : bytes-like or sequence of int
        From the type byte on. Bytes after the checksum are ignored; a truncated message is
        read as far as it goes (``complete`` False).

    Returns
    -------
    Message

    Raises
    ------
    ValueError
        Fewer than two bytes (no type and length), or a value outside 0-255.
    """
    raw = bytes(data)
    if len(raw) < 2:
        raise ValueError(
            f"a caller ID message needs its type and length bytes, got {len(raw)} byte(s): {raw!r}"
        )
    mtype, length = raw[0], raw[1]
    body = raw[2 : 2 + length]
    complete = len(raw) >= length + 3
    checksum_ok = complete and sum(raw[: length + 3]) & 0xFF == 0
    fields, layout_ok = _fields(mtype, body)
    first: dict[int, bytes] = {}
    for ptype, value in fields:
        first.setdefault(ptype, value)  # the first of a repeated parameter counts
    call_type = first.get(Parameter.CALL_TYPE)
    indicator = first.get(Parameter.VISUAL_INDICATOR)
    return Message(
        message_type=mtype,
        length=length,
        body=body,
        complete=complete,
        checksum_ok=checksum_ok,
        well_formed=complete and layout_ok,
        fields=fields,
        format=FORMATS.get(mtype, "mdmf" if mtype & 0x80 else "sdmf"),
        number=_text(first.get(Parameter.NUMBER)),
        name=_text(first.get(Parameter.NAME)),
        datetime=_text(first.get(Parameter.DATE_TIME)),
        number_absence=_reason(first.get(Parameter.NUMBER_ABSENCE)),
        name_absence=_reason(first.get(Parameter.NAME_ABSENCE)),
        call_type=call_type[0] if call_type is not None and len(call_type) == 1 else None,
        redirecting_number=_text(first.get(Parameter.REDIRECTING_NUMBER)),
        message_waiting=_indicator(indicator) if indicator is not None else None,
    )


# -- helpers ---------------------------------------------------------------------------------


def _refuse(given: Mapping[str, object], allowed: set[str], what: str) -> None:
    extra = [k for k, v in given.items() if v is not None and k not in allowed]
    if extra:
        shown = ", ".join(f"{k}={given[k]!r}" for k in extra)
        raise ValueError(f"{what} cannot carry {shown}")


def _ascii(value: str, what: str) -> bytes:
    for i, ch in enumerate(value):
        if not " " <= ch <= "~":
            raise ValueError(
                f"{what} must be printable ASCII, got {value!r} ({ch!r} at position {i})"
            )
    data = value.encode("ascii")
    if len(data) > 255:
        raise ValueError(f"{what} is {len(data)} characters long; a parameter holds 255 at most")
    return data


def _datetime(value: str) -> bytes:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise ValueError(f"datetime must be eight digits MMDDHHMM, got {value!r}")
    return value.encode("ascii")


def _absence(value: str | None, what: str) -> bytes:
    if value not in ABSENCE_REASONS:
        raise ValueError(f"{what} must be 'O' (unavailable) or 'P' (private), got {value!r}")
    return value.encode("ascii")


def _extra(fields: Sequence[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    out = []
    for i, (ptype, value) in enumerate(fields):
        if not 0 <= ptype <= 255:
            raise ValueError(f"extra_fields[{i}]: parameter type must be 0-255, got {ptype}")
        if len(value) > 255:
            raise ValueError(f"extra_fields[{i}]: value is {len(value)} bytes; 255 at most")
        out.append((ptype, bytes(value)))
    return out


def _parameters(params: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([int(t), len(v)]) + v for t, v in params)


def _frame(mtype: int, body: bytes, checksum_error: bool) -> bytes:
    if len(body) > 255:
        raise ValueError(f"message body is {len(body)} bytes; a message holds 255 at most")
    head = bytes([mtype, len(body)]) + body
    return head + bytes([(checksum(head) + int(checksum_error)) & 0xFF])


def _fields(mtype: int, body: bytes) -> tuple[tuple[tuple[int, bytes], ...], bool]:
    """The parameters of a body, and whether it has the layout its type requires."""
    if mtype == MessageType.SDMF_CALLER_ID:
        date, rest = body[:8], body[8:]
        fields = [(int(Parameter.DATE_TIME), date)]
        if rest in (b"O", b"P"):
            fields.append((int(Parameter.NUMBER_ABSENCE), rest))
        elif rest:
            fields.append((int(Parameter.NUMBER), rest))
        return tuple(fields), _plausible(fields) and bool(rest)
    if mtype == MessageType.SDMF_MESSAGE_WAITING:
        return ((int(Parameter.VISUAL_INDICATOR), body),), body in (SDMF_MWI_ON, SDMF_MWI_OFF)
    if not mtype & 0x80:
        return (), False
    params = []
    i = 0
    while i + 2 <= len(body):
        n = body[i + 1]
        params.append((body[i], body[i + 2 : i + 2 + n]))
        i += 2 + n
    return tuple(params), i == len(body) and bool(params) and _plausible(params)


def _plausible(fields: Sequence[tuple[int, bytes]]) -> bool:
    """Whether the parameters whose contents we know look as they must: a date-time of eight
    digits, numbers and absence reasons of printable ASCII. (A bit error that the checksum
    misses, two flips of the same bit, most often hits bit 7, which ASCII never sets.)"""
    for ptype, value in fields:
        if ptype == Parameter.DATE_TIME and not (len(value) == 8 and value.isdigit()):
            return False
        if ptype in _PRINTABLE and not all(0x20 <= b <= 0x7E for b in value):
            return False
    return True


_PRINTABLE = (
    Parameter.NUMBER,
    Parameter.NUMBER_ABSENCE,
    Parameter.NAME_ABSENCE,
    Parameter.REDIRECTING_NUMBER,
)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _reason(value: bytes | None) -> str | None:
    if value is None:
        return None
    return "P" if value == b"P" else "O"


def _indicator(value: bytes) -> bool | None:
    if value in (SDMF_MWI_ON, bytes([MWI_ON])):
        return True
    if value in (SDMF_MWI_OFF, bytes([MWI_OFF])):
        return False
    return None
