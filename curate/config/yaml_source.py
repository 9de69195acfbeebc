"""Read a pipeline YAML file keeping the line of every key, so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from curate.errors import CurateError


class PipelineConfigError(CurateError, ValueError):
    """The pipeline file is invalid: the message names the file, line, key and what is allowed."""


@dataclass
class YamlSource:
    path: str
    data: dict[str, Any]
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)  # key path -> 1-based line

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        # the closest enclosing key that has a line
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return None

    def where(self, loc: tuple[str | int, ...]) -> str:
        line = self.line_of(loc)
        return f"{self.path}:{line}" if line else self.path


def _plain(node: Any, loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            try:
                lines[loc + (key,)] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                pass
            out[key] = _plain(value, loc + (key,), lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                lines[loc + (i,)] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(value, loc + (i,), lines))
        return items
    if isinstance(node, str):
        return str(node)
    return node


PIPELINE_SHAPE = "a pipeline file is a mapping with keys input, output, pipeline, ..."


def load_yaml(path: str | Path, what: str = PIPELINE_SHAPE) -> YamlSource:
    """``what``: the sentence saying which mapping the file must hold (the file's kind is its first word)."""
    path = str(path)
    kind = what.split(" is ")[0].removeprefix("a ")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineConfigError(f"{path}: cannot read the {kind} ({exc.strerror})") from exc
    return parse_yaml(text, path, what)


def parse_yaml(text: str, path: str = "<string>", what: str = PIPELINE_SHAPE) -> YamlSource:
    try:
        node = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise PipelineConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(node, CommentedMap):
        raise PipelineConfigError(f"{path}: {what}")
    lines: dict[tuple[str | int, ...], int] = {}
    return YamlSource(path=path, data=_plain(node, (), lines), lines=lines)
