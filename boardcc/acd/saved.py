"""Agents saved by the agent editor, kept in a file the engine owns (docs/site.md, docs/acd.md).

The site file is the installer's: written by hand, with comments, so the engine never
rewrites it. What the agent editor saves (`agent_save`) and deletes (`agent_delete`) goes
to a second file beside it, ``<site>.agents.yaml`` (or the site's ``storage.agents_file``),
which the engine rewrites whole, atomically, at every change: a temporary file, flushed to
disk, then renamed over the old one, so a crash leaves the old file or the new one, never
half of either. It holds agents (passwords only as scrypt hashes, as in the site file) and
the job numbers of site-file agents the editor deleted:

```yaml
# Written by boardcc: agents saved and deleted with the agent editor.
version: 1
agents:
- job: '1003'
  name: 王五
  password: scrypt$16384$8$1$...
deleted:
- '1002'
```

**Merging.** At start the saved agents are laid over the site file's ``agents:`` by job
number: a saved agent replaces the site file's agent of the same job whole (it is what the
editor last saved; the start's log names both places), a new job is added, a job in
``deleted`` is left out. **Damage.** A file that does not parse or check is refused with its
name, line and key, and the engine does not start, so no later save can write over the
agents it holds; the site file's agents are untouched either way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from boardcc.acd.agent import AgentError
from boardcc.acd.settings import AgentConfig, QueueConfig, _quoted
from boardcc.yamlfile import ConfigFileError, Located, load_yaml, validate

log = logging.getLogger("boardcc.acd")

HEADER = (
    "# Written by boardcc: agents saved and deleted with the agent editor (agent_save,\n"
    "# agent_delete), laid over the site file's agents: at start. The engine rewrites this\n"
    "# file at every save; edit it only while the engine is stopped (docs/site.md).\n"
)


class SavedFile(BaseModel):
    """The saved-agents file as it is on disk."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    agents: list[AgentConfig] = []
    deleted: list[str] = []  # job numbers of the site file's agents deleted by the editor

    @field_validator("deleted", mode="before")
    @classmethod
    def _jobs(cls, v: object) -> object:
        return [_quoted(x) for x in v] if isinstance(v, list) else v


class SavedAgents:
    """The agents the editor saved, and the file they live in (None: kept in memory only).

    Parameters
    ----------
    path : Path or None
        The file; it need not exist yet.
    site_jobs : iterable of str
        The job numbers of the site file's ``agents:`` (a deleted one is remembered).
    """

    def __init__(self, path: Path | None, site_jobs: Iterable[str]) -> None:
        self.path = path
        self.site_jobs = frozenset(site_jobs)
        self.agents: dict[str, AgentConfig] = {}
        self.deleted: set[str] = set()
        self._stamp: tuple[int, int] | None = None  # (mtime_ns, size) as last read or written

    @classmethod
    def load(
        cls,
        path: Path | None,
        site_agents: list[AgentConfig],
        stations: Iterable[str],
        queues: Iterable[QueueConfig],
    ) -> SavedAgents:
        """Read `path` (if it exists) and check it against the site.

        Raises
        ------
        ConfigFileError
            Naming the saved file, the line and the key of every problem.
        """
        saved = cls(path, (a.job for a in site_agents))
        if path is None or not path.exists():
            return saved
        located = load_yaml(path)
        if located.data is not None and not isinstance(located.data, dict):
            raise ConfigFileError(str(path), [(1, "", "not a saved-agents file (a mapping)")])
        data = validate(SavedFile, located)
        problems: list[tuple[int, str, str]] = []
        saved._check(data, located, set(stations), list(queues), problems)
        if problems:
            raise ConfigFileError(str(path), problems)
        saved.agents = {a.job: a for a in data.agents}
        saved.deleted = set(data.deleted)
        saved._stamp = _stamp(path)
        for job in sorted(saved.agents.keys() & saved.site_jobs):
            log.warning(
                "agent %s: the one saved with the agent editor (%s) is used, not the site "
                "file's / 座席 %s 以座席编辑器保存的为准",
                job,
                path,
                job,
            )
        return saved

    def _check(
        self,
        data: SavedFile,
        located: Located,
        stations: set[str],
        queues: list[QueueConfig],
        problems: list[tuple[int, str, str]],
    ) -> None:
        def need(cond: bool, at: tuple[object, ...], reason: str) -> None:
            if not cond:
                problems.append((located.line(at), ".".join(map(str, at)), reason))

        jobs: set[str] = set()
        for i, a in enumerate(data.agents):
            need(a.job not in jobs, ("agents", i, "job"), f"job number {a.job} is saved twice")
            jobs.add(a.job)
            if a.station is not None:
                need(
                    a.station in stations,
                    ("agents", i, "station"),
                    f"no station {a.station!r} in the site file",
                )
        members = {m.agent: q.name for q in queues for m in q.members}
        for i, job in enumerate(data.deleted):
            need(
                job not in jobs,
                ("deleted", i),
                f"agent {job} is both saved and deleted",
            )
            need(
                job not in members,
                ("deleted", i),
                f"agent {job} was deleted with the agent editor, but the site file's queue "
                f"{members.get(job)} lists it in members: take it out of one of the two",
            )

    def merge(self, site_agents: list[AgentConfig]) -> list[AgentConfig]:
        """The site file's agents with the saved ones laid over them (saved wins by job)."""
        out = {a.job: a for a in site_agents if a.job not in self.deleted}
        out.update(self.agents)
        return list(out.values())

    # -- changes, written before they take effect ---------------------------------------------

    def put(self, config: AgentConfig) -> None:
        """Keep `config` (a new agent or a changed one); `AgentError` if it cannot be written."""
        agents = {**self.agents, config.job: config}
        self._write(agents, self.deleted - {config.job})

    def remove(self, job: str) -> None:
        """Forget agent `job`: out of the saved agents, and remembered as deleted if the site
        file has it."""
        agents = {j: a for j, a in self.agents.items() if j != job}
        deleted = self.deleted | {job} if job in self.site_jobs else self.deleted
        self._write(agents, deleted)

    def _write(self, agents: dict[str, AgentConfig], deleted: set[str]) -> None:
        path = self.path
        if path is not None:
            if _stamp(path) != self._stamp:
                raise AgentError(
                    f"{path} was changed on disk since the engine read it: restart the engine "
                    f"to take it in, then save again / 座席文件已在磁盘上被修改, 请重启后再保存"
                )
            body = {
                "version": 1,
                "agents": [
                    agents[j].model_dump(mode="json", exclude_defaults=True) for j in sorted(agents)
                ],
                "deleted": sorted(deleted),
            }
            text = HEADER + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
            try:
                _replace(path, text)
            except OSError as exc:
                raise AgentError(
                    f"cannot write {path}: {exc.strerror or exc} / 座席文件无法写入, 未保存"
                ) from None
            self._stamp = _stamp(path)
        self.agents, self.deleted = agents, set(deleted)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` atomically: a temporary file (owner only: it holds password
    hashes) flushed to disk, renamed over `path`, then the folder flushed."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems cannot flush a folder; the rename is done
    finally:
        os.close(dir_fd)
