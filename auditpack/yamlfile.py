"""YAML files whose every problem is reported as file:line: key: message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from .errors import AuditpackError

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}"


class YamlFileError(AuditpackError):
    """A YAML file that cannot be used; each problem names file, line and key."""

    def __init__(self, problems: list[Problem]):
        located = sorted(problems, key=lambda p: (p.file, p.line or 0))
        files = sorted({p.file for p in located})
        super().__init__(", ".join(files) or "a YAML file", located)


def line_of_key(mapping: Any, key: Any) -> int | None:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


def locate(doc: Any, path: tuple[Any, ...]) -> int | None:
    """Line of the deepest node of a path (keys and list indexes) that exists in the document."""
    line, node = None, doc
    for step in path:
        try:
            if isinstance(step, int) and hasattr(node, "lc") and isinstance(node, list):
                line, node = node.lc.item(step)[0] + 1, node[step]
            else:
                line, node = node.lc.key(step)[0] + 1, node[step]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return line


def load_yaml(data: bytes, file: str) -> Any:
    try:
        return YAML(typ="rt").load(data)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlFileError(
            [Problem(file, mark.line + 1 if mark else None, "-", f"not valid YAML: {exc.problem or exc.context}")]
        ) from None


def read_yaml(path: str | Path) -> tuple[Any, str]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise YamlFileError([Problem(str(path), None, "-", f"cannot read: {exc.strerror}")]) from None
    return load_yaml(data, str(path)), str(path)


def validate(model: type[Model], doc: Any, file: str) -> Model:
    """Validate a loaded document, turning every pydantic error into a located problem."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc) or "-"
            problems.append(Problem(file, locate(doc, loc) or 1, key, err["msg"]))
        raise YamlFileError(problems) from None
