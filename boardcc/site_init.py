"""`boardcc init`: a commented sample site file to start a site from.

The sample (``boardcc/samples/site.yaml``, package data) is a site like seed 003's shCBcc:
20 trunks in two groups, 4 agent desk phones, working hours, holidays, inbound and outbound
rules, prompts, storage and the monitor API, every key explained in Chinese and English.
It is written as is, and its two prompts are copied into a ``prompts/`` folder next to it:
the site file names them by relative path, which `boardcc.config.load_site` takes from the
file's folder, so the site is one self-contained folder that can be moved, kept under
version control, and given the site's own recordings by replacing the files, and it keeps
working when boardcc is upgraded or its virtual environment rebuilt (an absolute path into
the installed package would not).

Nothing is overwritten unless asked: if the site file or a prompt file is already there,
`write_sample` refuses before writing anything.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

#: The file name `boardcc init` writes when given a folder or nothing.
DEFAULT_NAME = "boardcc.yaml"

#: The prompt files the sample names, under ``prompts/`` next to the site file.
PROMPT_FILES = ("welcome.wav", "closed.wav")


class SiteExistsError(FileExistsError):
    """Files `write_sample` would overwrite; the message names them."""

    def __init__(self, existing: list[Path]) -> None:
        self.existing = existing
        names = [str(p) for p in existing]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = "exists" if len(existing) == 1 else "exist"
        super().__init__(f"{listed} already {verb}; --force overwrites")


def sample_text() -> str:
    """The commented sample site file."""
    return (files("boardcc") / "samples" / "site.yaml").read_text(encoding="utf-8")


def write_sample(path: str | Path = DEFAULT_NAME, *, force: bool = False) -> list[Path]:
    """Write the sample site file at `path` and its prompts in ``prompts/`` beside it.

    Parameters
    ----------
    path : str or Path
        The site file to write, or a folder to write ``boardcc.yaml`` in: one that exists, or
        a path ending in ``/`` or without a suffix. Missing folders are created.
    force : bool
        Overwrite files that are already there.

    Returns
    -------
    list of Path
        The files written, the site file first.

    Raises
    ------
    SiteExistsError
        Without `force`, when any of the files exists; nothing is written then.
    OSError
        When a folder cannot be made or a file cannot be written.
    """
    target = Path(path)
    # A folder: one that exists, or a new one written as such ("site/") or without a suffix.
    if target.is_dir() or str(path).endswith(("/", os.sep)) or not target.suffix:
        target = target / DEFAULT_NAME
    prompts = target.parent / "prompts"
    written = [target, *(prompts / name for name in PROMPT_FILES)]
    existing = [p for p in written if p.exists()]
    if existing and not force:
        raise SiteExistsError(existing)
    prompts.mkdir(parents=True, exist_ok=True)
    shipped = files("boardcc") / "samples" / "prompts"
    # Prompts first: a site file is never left naming prompts that are not there.
    for name in PROMPT_FILES:
        (prompts / name).write_bytes((shipped / name).read_bytes())
    target.write_text(sample_text(), encoding="utf-8")
    return written
