"""The site file's ACD sections: ``agents:``, ``queues:`` and ``acd:`` (feature codes, reasons).

Pydantic models only, importing nothing else of boardcc, so that `boardcc.config` can hold
them in the site's model without an import cycle. Cross-checks that need the whole site
(an agent's station exists, a queue's members are agents) are in `check_site`, which
`boardcc.config.load_site` calls with its problem collector.

Passwords are never in clear in the file: an agent's ``password`` is a hash made by
``boardcc hash-password`` (scrypt, `boardcc.acd.passwords`), and there is no default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: SPEC A4's permissions (seed 003's 座席权限), by the names the site file and the API use.
PERMISSIONS: dict[str, str] = {
    "supervisor": "座席班长",
    "answer_internal": "接听内部电话",
    "answer_queue": "接听排队呼入电话",
    "pickup": "代接电话",
    "grab": "抓接ACD排队电话",
    "play_recordings": "播放录音文件",
    "download_recordings": "下载录音文件",
    "record_manually": "手动启动同步录音",
    "dial_internal": "拨打内部电话",
    "dial_local": "拨打市内电话",
    "dial_national": "拨打国内电话",
    "dial_international": "拨打国际电话",
    "transfer_outside": "呼叫转外线",  # seed 000; leaving a caller with an outside line
    "fax_receive": "手动接收传真",
    "fax_download": "下载传真文件",
    "fax_send": "手动发送传真",
    "monitor": "监听电话",
    "barge": "强插、强拆电话",
    "force_logout": "强行注销其他空闲座席",
}

#: Queue strategies (SPEC A1 and the peers' union); `boardcc.acd.selector` implements them.
Strategy = Literal[
    "ring_all",
    "longest_idle",
    "round_robin",
    "fixed_order",
    "top_down",
    "fewest_calls",
    "least_talk_time",
    "random",
    "weighted_random",
    "ring_progressively",
    "skill",
    "sticky",
    "region",
]
STRATEGIES: tuple[str, ...] = get_args(Strategy)

HASH_PREFIX = "scrypt$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _quoted(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        raise ValueError(f'write numbers in quotes ("1001"): YAML read this one as the integer {v}')
    return v


class AgentConfig(_Strict):
    """One agent (座席员工): job number, name, password hash, phone, groups, skills, rights."""

    job: str
    name: str = ""
    password: str = Field(
        description="a scrypt hash from `boardcc hash-password`; never the password itself"
    )
    station: str | None = None  # the agent's own desk phone (extension)
    groups: list[str] = []
    skills: dict[str, int] = {}
    regions: list[str] = []  # caller regions (归属地) this agent serves first
    permissions: list[str] = []
    wrap_up_s: float | None = Field(default=None, ge=0)
    survey: str | None = None  # 评分: IVR flow the caller goes to when this agent hangs up first
    # 耳麦座席 (长摘机): the phone may stay off hook in standby; calls come with a zip tone
    headset: bool = False
    auto_answer: bool | None = None  # headset: connect offers at once; None: the queue says

    _q = field_validator("job", "station", mode="before")(_quoted)

    @field_validator("job")
    @classmethod
    def _job(cls, v: str) -> str:
        if not re.fullmatch(r"[0-9]{2,8}", v):
            raise ValueError(f"a job number is 2 to 8 digits (keyed on a phone), got {v!r}")
        return v

    @field_validator("password")
    @classmethod
    def _hashed(cls, v: str) -> str:
        if not v.startswith(HASH_PREFIX):
            raise ValueError(
                "not a password hash: run `boardcc hash-password` and paste what it prints "
                "(passwords are never kept in clear / 密码须为散列值)"
            )
        return v

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, v: list[str]) -> list[str]:
        for p in v:
            if p not in PERMISSIONS:
                raise ValueError(f"unknown permission {p!r} (known: {', '.join(PERMISSIONS)})")
        return v

    @field_validator("skills")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        for skill, level in v.items():
            if not 1 <= level <= 10:
                raise ValueError(f"skill {skill!r}: a level is 1 to 10, got {level}")
        return v


class Member(_Strict):
    """An agent in a queue: its tier (1 first; higher tiers join as the wait grows), its
    place in fixed and top-down orders, and its weight for weighted random."""

    agent: str
    tier: int = Field(default=1, ge=1)
    position: int | None = None
    weight: float = Field(default=1.0, gt=0)

    _q = field_validator("agent", mode="before")(_quoted)


def _key(v: str | None) -> str | None:
    if v is not None and not re.fullmatch(r"[0-9*#]", v):
        raise ValueError(f"a key is one of 0-9 * #, got {v!r}")
    return v


def _member(v: Any) -> Any:
    return {"agent": v} if isinstance(v, str) else v


class QueueConfig(_Strict):
    """A queue (队列): who answers it, how callers are chosen and what they hear."""

    name: str
    strategy: Strategy = "longest_idle"
    members: list[Member] = []  # agents by job number (a string is tier 1)
    groups: list[str] = []  # and every agent of these groups, tier 1
    skill: str | None = None  # the skill asked for when the IVR names none
    tier_wait_s: float = Field(default=30.0, gt=0)  # tier n answers after (n-1) x this wait
    ring_s: float = Field(default=15.0, gt=0)  # an offer rings this long, then the next
    retry_s: float = Field(default=2.0, ge=0)  # after an offer rings out, wait before the next
    progressive_s: float = Field(default=5.0, gt=0)  # ring_progressively: one more agent every
    wrap_up_s: float = Field(default=5.0, ge=0)  # after-call work (话后) unless the agent says
    max_wait_s: float = Field(default=0.0, ge=0)  # 0: no limit; then `overflow`
    max_length: int = Field(default=0, ge=0)  # callers waiting; 0: no limit; then `overflow`
    join_empty: bool = True  # join when no agent is logged in
    leave_empty: bool = False  # leave (to `overflow`) when the last agent logs out
    overflow: list[Any] = []  # steps, as in inbound rules; none: hang up
    music: str = "default"  # the music-on-hold class (the site's music_on_hold) callers hear
    announce_s: float = Field(default=0.0, ge=0)  # position and wait every N s; 0: never
    periodic: str | None = None  # a prompt played every `periodic_s`
    periodic_s: float = Field(default=60.0, gt=0)
    leave_key: str | None = None  # a key the caller presses to leave to `leave_to`
    leave_to: list[Any] = []
    callback_key: str | None = None  # a key to ask to be called back (回电), keeping the place
    service_level_s: float = Field(default=20.0, gt=0)
    sticky_s: float = Field(default=86400.0, gt=0)  # sticky: the last agent within this long
    reentry_s: float = Field(default=0.0, ge=0)  # a caller back within this long keeps the place
    fallback: Strategy = "longest_idle"  # sticky and region: among the others
    announce_agent: bool = False  # 报工号: the caller hears agent_intro and the job number
    survey: str | None = None  # 评分: IVR flow the caller goes to when the agent hangs up first
    auto_answer: bool = False  # a headset agent in standby is connected after the zip tone

    _m = field_validator("members", mode="before")(
        lambda v: [_member(x) for x in v] if isinstance(v, list) else v
    )

    _k = field_validator("leave_key", "callback_key")(_key)

    @model_validator(mode="after")
    def _keys_differ(self) -> QueueConfig:
        if self.leave_key is not None and self.leave_key == self.callback_key:
            raise ValueError(f"leave_key and callback_key are both {self.leave_key!r}")
        return self


class FeatureCodes(_Strict):
    """Desk-phone codes (dialled, ended by # or a pause); see docs/acd.md."""

    login: str = "*1"  # *1 job# password#
    ready: str = "*2"
    not_ready: str = "*3"  # *3 or *3 n# (n-th reason of the list)
    logout: str = "*0"
    away: str = "*4"
    pickup: str = "*8"  # *8 ext# a ringing station; *8# any of the agent's groups
    grab: str = "*9"  # *9# the longest-waiting call of the agent's queues

    @model_validator(mode="after")
    def _distinct(self) -> FeatureCodes:
        codes = self.model_dump()
        for name, code in codes.items():
            if not re.fullmatch(r"\*[0-9]{1,3}", code):
                raise ValueError(f"{name}: a code is * and 1 to 3 digits, got {code!r}")
        seen: dict[str, str] = {}
        for name, code in codes.items():
            for other, prior in seen.items():
                if code.startswith(prior) or prior.startswith(code):
                    raise ValueError(f"{name} ({code}) and {other} ({prior}) overlap")
            seen[name] = code
        return self


class AcdSettings(_Strict):
    feature_codes: FeatureCodes = FeatureCodes()
    not_ready_reasons: list[str] = ["小休", "用餐", "开会", "培训"]
    max_missed_offers: int = Field(default=3, ge=1)  # then not ready, reason "no answer"
    ready_on_login: bool = True
    regions: str | None = None  # CSV: prefix,region (mobile prefixes and area codes)
    transfer_ring_s: float = Field(default=30.0, gt=0)
    answer_key: str = "#"  # a headset agent in standby answers the call offered with this key
    # The day's figures start at this local time of day ("HH:MM"); null: from the engine's start
    figures_from: str | None = "00:00"

    _k = field_validator("answer_key")(_key)

    @field_validator("figures_from")
    @classmethod
    def _time_of_day(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", v):
            raise ValueError(f"a time of day is HH:MM, 00:00 to 23:59, got {v!r}")
        return v


def check_site(
    agents: list[AgentConfig],
    queues: list[QueueConfig],
    extensions: Mapping[str, int],
    prompts: Mapping[str, str],
    music: set[str],
    check_steps: Callable[[tuple[object, ...], list[Any]], None],
    need: Callable[[bool, tuple[object, ...], str], None],
) -> None:
    """Cross-checks of the ACD sections against the rest of the site (`need` collects)."""
    jobs: set[str] = set()
    for i, a in enumerate(agents):
        need(a.job not in jobs, ("agents", i, "job"), f"job number {a.job} is used twice")
        jobs.add(a.job)
        if a.station is not None:
            need(a.station in extensions, ("agents", i, "station"), f"no station {a.station!r}")
    groups = {g for a in agents for g in a.groups}
    names: set[str] = set()
    for i, q in enumerate(queues):
        need(q.name not in names, ("queues", i, "name"), f"queue {q.name} twice")
        names.add(q.name)
        for k, m in enumerate(q.members):
            need(m.agent in jobs, ("queues", i, "members", k), f"no agent {m.agent!r}")
        for k, g in enumerate(q.groups):
            need(g in groups, ("queues", i, "groups", k), f"no agent is in group {g!r}")
        need(q.music in music, ("queues", i, "music"), f"no music-on-hold class {q.music!r}")
        if q.periodic is not None:
            need(q.periodic in prompts, ("queues", i, "periodic"), f"no prompt {q.periodic!r}")
        need(
            q.leave_key is None or bool(q.leave_to),
            ("queues", i, "leave_to"),
            "leave_key needs leave_to steps",
        )
        check_steps(("queues", i, "overflow"), q.overflow)
        check_steps(("queues", i, "leave_to"), q.leave_to)
    if any(q.announce_agent for q in queues):
        missing = [
            p for p in ("agent_intro", *(f"digit_{d}" for d in range(10))) if p not in prompts
        ]
        need(
            not missing,
            ("prompts",),
            f"announcing job numbers needs the prompts {', '.join(missing)}",
        )
    if any(q.announce_s for q in queues):
        missing = [p for p in ANNOUNCE_PROMPTS if p not in prompts]
        need(
            not missing,
            ("prompts",),
            f"queue announcements need the prompts {', '.join(missing)}",
        )


#: Prompts an announcing queue needs: "you are number", digits, "in the queue", "about",
#: "minutes" (a site records them in its own language).
ANNOUNCE_PROMPTS = (
    "queue_position",
    "queue_wait",
    "queue_minutes",
    *(f"digit_{d}" for d in range(10)),
)
