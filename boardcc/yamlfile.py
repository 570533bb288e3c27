"""YAML files that people edit, read so that every error names the file, line and key.

Site files, scenario files and IVR flows are written by hand, so a mistake must be easy to
find: `load_yaml` parses the text and remembers the line of every key and list item, and
`validate` checks the data against a pydantic model and turns each complaint into
``file:line: key.path: reason``. Duplicate keys, which plain YAML loading silently
accepts, are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Key = tuple[str, ...]


class ConfigFileError(ValueError):
    """A file that cannot be used, with where and why.

    Attributes
    ----------
    problems : list of (line, key, reason)
        Every problem found (line 0 when unknown).
    source : str
        The file (or a name for text without a file).
    """

    def __init__(self, source: str, problems: Iterable[tuple[int, str, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [
            f"{source}:{line}: {key}: {reason}" if key else f"{source}:{line}: {reason}"
            for line, key, reason in self.problems
        ]
        super().__init__("\n".join(lines))


@dataclass(slots=True)
class Located:
    """Parsed YAML and the line (1-based) where each key path starts."""

    data: Any
    source: str
    lines: dict[Key, int] = field(default_factory=dict)

    def line(self, path: Iterable[object]) -> int:
        """Line of the deepest part of `path` that is known."""
        key = tuple(str(p) for p in path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)


def load_yaml(source: str | Path, text: str | None = None) -> Located:
    """Parse a YAML file (or `text`, naming it `source`) keeping the lines of its keys."""
    name = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigFileError(name, [(0, "", f"cannot read the file: {exc.strerror}")]) from exc
        except UnicodeDecodeError as exc:
            raise ConfigFileError(name, [(0, "", f"not UTF-8 text: {exc.reason}")]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigFileError(name, [(line, "", f"not valid YAML: {reason}")]) from exc
    located = Located(data, name)
    if node is not None:
        problems: list[tuple[int, str, str]] = []
        _walk(node, (), located.lines, problems)
        if problems:
            raise ConfigFileError(name, problems)
    return located


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader, except that something written like a date that is not one
    (``2027-13-01``) stays text, for the model to refuse at its key and line; PyYAML would
    raise a bare ValueError naming neither."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _walk(
    node: yaml.Node, path: Key, lines: dict[Key, int], problems: list[tuple[int, str, str]]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                where = ".".join((*path, key))
                problems.append((key_node.start_mark.line + 1, where, "duplicate key"))
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), lines, problems)


def validate(model: type[M], located: Located, *, at: Iterable[object] = ()) -> M:
    """Check `located.data` (or the part at key path `at`) against a pydantic model.

    Raises
    ------
    ConfigFileError
        Naming the line and key of every problem.
    """
    prefix = tuple(str(p) for p in at)
    data: Any = located.data
    for p in at:
        data = data[p]
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found: dict[Key, list[str]] = {}
        union_errors: dict[Key, list[Key]] = {}
        for err in exc.errors():
            loc, union_at = _in_data(err, data)
            found.setdefault(loc, []).append(_reason(err))
            if union_at is not None:
                union_errors.setdefault(union_at, []).append(loc)
        for at_union, locs in union_errors.items():
            # A member that got inside the value says what is wrong there; the members whose
            # type the value plainly is not ("should be a valid string") are no news then.
            if any(len(loc) > len(at_union) for loc in locs) and at_union in found:
                found[at_union] = [r for r in found[at_union] if not _is_type_error(r)]
        problems = []
        for loc, reasons in found.items():
            key = (*prefix, *loc)
            if reasons:
                problems.append((located.line(key), ".".join(key), _one_of(reasons)))
        raise ConfigFileError(located.source, problems) from None


def _in_data(err: Any, data: Any) -> tuple[Key, Key | None]:
    """The part of an error's `loc` that is a key path in the data, and where a union
    member's name was dropped from it (pydantic puts the member it tried in `loc`:
    ``"Agent"``, ``"str"``, ``"list[int]"``, ``"function-after[...]"``)."""
    loc = list(err["loc"])
    path: list[str] = []
    union_at: Key | None = None
    node = data
    for k, part in enumerate(loc):
        if isinstance(node, Mapping):
            match = [key for key in node if str(key) == str(part)]
            if match:
                path.append(str(part))
                node = node[match[0]]
                continue
            if k == len(loc) - 1 and err.get("type") == "missing":
                path.append(str(part))
                continue
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(str(part))
            node = node[part]
            continue
        if union_at is None:
            union_at = tuple(path)
    return tuple(path), union_at


def _is_type_error(reason: str) -> bool:
    return reason.startswith(("Input should be a valid ", "Input should be a dictionary"))


def _one_of(reasons: list[str]) -> str:
    """Several complaints at one key (a value no union member takes) as one reason."""
    unique = list(dict.fromkeys(reasons))
    if len(unique) > 1 and all(r.startswith("Input should be ") for r in unique):
        return " or ".join([unique[0], *(r.removeprefix("Input should be ") for r in unique[1:])])
    return "; ".join(unique)


def _reason(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        return "unknown key"
    if err.get("type") == "missing":
        return "required key is missing"
    return msg.removeprefix("Value error, ")
