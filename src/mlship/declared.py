"""Read a YAML declaration (``params.yaml``, ``schema.yaml``) into a frozen pydantic model.

One job: every way the file can be wrong — unreadable, not YAML, not a mapping, a wrong key or value —
becomes one error of the caller's type whose message names the file and each offending key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class DeclarationError(ValueError):
    """A declaration file is missing, unreadable or invalid; the message names the file and the key."""


def describe(source: Path, error: ValidationError, noun: str, *, show_input: bool = True) -> str:
    """One line per invalid key: ``  dotted.key: message (got value)``."""
    lines = [f"{source}: {error.error_count()} invalid {noun}(s)"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "<root>"
        shown = f" (got {item.get('input')!r})" if show_input else ""
        lines.append(f"  {key}: {item['msg']}{shown}")
    return "\n".join(lines)


def parse(
    raw: Any,
    model: type[Model],
    source: Path,
    error: type[DeclarationError],
    noun: str,
    *,
    show_input: bool = True,
) -> Model:
    """Validate an already-parsed document against ``model``."""
    if not isinstance(raw, dict):
        raise error(f"{source}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as invalid:
        raise error(describe(source, invalid, noun, show_input=show_input)) from None


def load(
    path: Path,
    model: type[Model],
    error: type[DeclarationError],
    what: str,
    noun: str,
    *,
    show_input: bool = True,
) -> Model:
    """Read ``path`` and validate it; ``what`` names the file's role in the messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as failure:
        raise error(f"{path}: cannot read {what} ({failure.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as failure:
        raise error(f"{path}: not valid YAML: {failure}") from None
    return parse(raw, model, path, error, noun, show_input=show_input)
