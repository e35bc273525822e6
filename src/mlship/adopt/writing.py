"""Render what ``mlship init`` writes and write it safely.

* ``schema.yaml`` is rendered from the drafted :class:`~mlship.data.schema.Schema` (one line per number,
  a block per category set, a header saying it is a draft to review) and read back through the schema
  loader before anything is written, so a draft the pipeline cannot load is never written.
* ``params.yaml`` is edited in place with ruamel.yaml's round-trip mode: only the keys in
  :func:`mlship.adopt.defaults.params_updates` change; every other value, the key order and the comments
  stay. A comment beside a reset value is replaced by the reason for the new value.
* Every file is written to a ``.partial`` sibling and then renamed over the old one (a crash leaves the
  old file), and only when its content changes (a second run on the same file changes nothing).

This module and :mod:`mlship.config` are the two that open ``params.yaml``: config reads it, this one
edits it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from mlship.adopt.defaults import Section, Setting
from mlship.data.schema import CategoricalColumn, NumericColumn, Schema, parse_schema

_WIDTH = 110
#: Column of an end-of-line comment added where no sibling shows one to align with.
_COMMENT_COLUMN = 38


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` atomically unless ``path`` already holds exactly it; return whether it changed."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="\n")
    partial.replace(path)
    return True


def _dump(value: Any, style: str | None = None) -> str:
    # Dumped inside a flow sequence, so the text is also valid inside ``[...]`` and ``{...}``.
    text = yaml.safe_dump(
        [value], default_flow_style=True, default_style=style, allow_unicode=True, width=10**9
    ).strip()
    return text.removeprefix("[").removesuffix("]")


def scalar(value: Any) -> str:
    """``value`` as one line of YAML flow text that reads back as the same value, also inside a flow
    collection (quoted when it must be; double-quoted with escapes when it holds a line break or another
    unprintable character)."""
    if value == "":
        return '""'
    if isinstance(value, str) and not value.isprintable():
        return _dump(value, style='"')
    text = _dump(value)
    if "\n" in text or yaml.safe_load(f"[{text}]") != [value]:
        text = _dump(value, style='"')
    return text


def _wrapped_list(prefix: str, items: Sequence[Any]) -> list[str]:
    """``prefix[a, b, ...]`` wrapped at the line width, continuation lines aligned after the bracket."""
    parts = [scalar(item) for item in items]
    lines: list[str] = []
    current = prefix + "["
    hang = " " * len(current)
    for position, part in enumerate(parts):
        piece = part + ("]" if position == len(parts) - 1 else ",")
        if len(current) + 1 + len(piece) > _WIDTH and not current.endswith("["):
            lines.append(current)
            current = hang + piece
        else:
            current += ("" if current.endswith("[") else " ") + piece
    lines.append(current if parts else current + "]")
    return lines


def _commented(text: str, comment: str, column: int = 30) -> str:
    return f"{text.ljust(column - 1)} # {comment}"


def _feature_lines(column: NumericColumn | CategoricalColumn) -> list[str]:
    if isinstance(column, NumericColumn):
        fields = [f"name: {scalar(column.name)}", f"kind: {column.kind}"]
        for key, bound in (("min", column.minimum), ("max", column.maximum)):
            if bound is not None:
                fields.append(f"{key}: {scalar(int(bound) if column.kind == 'integer' else bound)}")
        fields += [f"nullable: {scalar(column.nullable)}", f"description: {scalar(column.description)}"]
        return ["  - {" + ", ".join(fields) + "}"]
    return [
        f"  - name: {scalar(column.name)}",
        "    kind: categorical",
        *_wrapped_list("    categories: ", column.categories),
        f"    nullable: {scalar(column.nullable)}",
        f"    description: {scalar(column.description)}",
    ]


def render_schema(schema: Schema, header: Iterable[str]) -> str:
    """``schema.yaml`` for ``schema``, verified to load back as the same schema."""
    reader, target = schema.reader, schema.target
    lines = [f"# {line}".rstrip() for line in header]
    lines += [
        "",
        "# How the raw file is read.",
        "reader:",
        _commented(f"  format: {reader.format}", "csv | parquet"),
        f"  separator: {scalar(reader.separator)}",
        _commented(
            f"  na_values: {scalar(list(reader.na_values))}",
            "extra markers of a missing value (an empty field is always missing)",
        ),
        _commented(
            f"  index_col: {scalar(reader.index_col)}", "position of an index column to drop; null when none"
        ),
        _commented(
            f"  skipinitialspace: {scalar(reader.skipinitialspace)}", "strip the space after a separator"
        ),
        _commented(
            f"  drop: {scalar(list(reader.drop))}", "source columns left out (identifiers, free text)"
        ),
        _commented(
            f"  rename: {scalar(dict(reader.rename))}", "source column name -> the name used everywhere"
        ),
        "",
        "target:",
        f"  name: {scalar(target.name)}",
        _commented(f"  task: {target.task}", "binary | multiclass | regression"),
    ]
    if target.is_classifier:
        lines += _wrapped_list("  labels: ", target.labels)
    if target.task == "binary":
        lines.append(f"  positive: {scalar(target.positive)}")
    lines += [
        "",
        _commented(
            f"sensitive: {scalar(list(schema.sensitive))}", "slice metrics and fairness gates per group"
        ),
        "",
        "# kind: integer | float | boolean | categorical. Numbers carry an inclusive [min, max];",
        "# categoricals their closed set of categories. nullable: a missing value is allowed (and imputed).",
        "features:",
    ]
    for column in schema.features:
        lines += _feature_lines(column)
    text = "\n".join(lines) + "\n"
    reloaded = parse_schema(yaml.safe_load(text))
    if reloaded != schema:  # pragma: no cover - a rendering bug, never a user error
        raise RuntimeError("the drafted schema.yaml does not read back as the inferred schema")
    return text


def render_document(header: Iterable[str], document: dict[str, Any]) -> str:
    """A commented header and a block-style YAML document (key order kept)."""
    lines = [f"# {line}".rstrip() for line in header]
    body = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, width=_WIDTH, default_flow_style=False
    )
    return "\n".join(lines) + "\n\n" + body


# --- params.yaml: comment-preserving updates -------------------------------------------------------------


def _round_trip() -> YAML:
    handler = YAML()
    handler.width = 4096  # never re-wrap a long line
    return handler


def _token(node: CommentedMap, key: str) -> CommentToken | None:
    items = node.ca.items.get(key)
    if not items or len(items) < 3 or items[2] is None:
        return None
    token: CommentToken = items[2]
    return token


def _split(value: str) -> tuple[str, str]:
    """A post-value comment token's text: the end-of-line comment and the lines after it (which sit above
    the next key)."""
    eol, _, tail = value.partition("\n")
    return eol, tail


def _set_token(node: CommentedMap, key: str, value: str, column: int) -> None:
    items = node.ca.items.setdefault(key, [None, None, None, None])
    items[2] = CommentToken(value, CommentMark(column), None)


def _sibling_column(node: CommentedMap) -> int:
    for key in node:
        token = _token(node, key)
        if token is not None and _split(token.value)[0].lstrip().startswith("#"):
            return int(token.column)
    return _COMMENT_COLUMN


def _set_eol(node: CommentedMap, key: str, comment: str) -> None:
    token = _token(node, key)
    tail = _split(token.value)[1] if token is not None else ""
    has_eol = token is not None and _split(token.value)[0].lstrip().startswith("#")
    column = int(token.column) if token is not None and has_eol else _sibling_column(node)
    _set_token(node, key, f"# {comment}\n{tail}", column)


def _holder(node: CommentedMap, key: str) -> tuple[CommentedMap, str]:
    """The mapping and key whose post-value comment holds the lines after ``key``'s entry (the comment
    lines above the next key): ``key`` itself, or the last key of the block it opens, recursively."""
    value = node[key]
    if isinstance(value, CommentedMap) and len(value) > 0:
        return _holder(value, list(value)[-1])
    return node, key


def _tail_after(node: CommentedMap, key: str) -> str:
    holder, last = _holder(node, key)
    token = _token(holder, last)
    return _split(token.value)[1] if token is not None else ""


def _set_tail_after(node: CommentedMap, key: str, tail: str) -> None:
    holder, last = _holder(node, key)
    token = _token(holder, last)
    eol = _split(token.value)[0] if token is not None else ""
    column = int(token.column) if token is not None and eol else _sibling_column(holder)
    if eol or tail:
        _set_token(holder, last, f"{eol}\n{tail}", column)


def _set_above(node: CommentedMap, key: str, lines: Sequence[str], indent: int) -> None:
    """Replace the comment lines above ``key`` (ruamel keeps them with the entry before it)."""
    keys = list(node)
    position = keys.index(key)
    if position == 0:
        return  # above the first key of a block: not needed for the keys init resets
    block = "".join(f"{' ' * indent}# {line}\n" for line in lines)
    _set_tail_after(node, keys[position - 1], block)


def _delete(node: CommentedMap, key: str) -> None:
    """Remove ``key``; comment lines that sat above the next key move to the entry before it."""
    keys = list(node)
    position = keys.index(key)
    tail = _tail_after(node, key)
    del node[key]
    node.ca.items.pop(key, None)
    if tail and position > 0:
        _set_tail_after(node, keys[position - 1], tail)


def _plain(value: Any) -> Any:
    """Lists and mappings set as one value are written on one line, in flow style (``[a, b]``, ``{k: v}``)."""
    if isinstance(value, list | tuple):
        sequence = CommentedSeq(value)
        sequence.fa.set_flow_style()
        return sequence
    if isinstance(value, dict):
        mapping = CommentedMap(value)
        mapping.fa.set_flow_style()
        return mapping
    return value


def _set_before(node: CommentedMap, key: str, lines: str) -> None:
    """Comment lines (already indented, ``\\n``-terminated) written directly above ``key``."""
    items = node.ca.items.setdefault(key, [None, None, None, None])
    items[1] = [CommentToken(lines, CommentMark(0), None)]


def apply_section(node: CommentedMap, section: Section, indent: int = 0) -> str:
    """Set every entry of ``section`` in ``node`` (recursively), keeping other keys and comments.

    Returns the comment lines that sat after this block when no entry of it is left to hold them (it was
    emptied and has no next key); the caller writes them above its own next key.
    """
    if section.exact:
        for key in [key for key in node if key not in section.entries]:
            _delete(node, key)
    orphan = ""
    for key, entry in section.entries.items():
        if isinstance(entry, Setting):
            node[key] = _plain(entry.value)
            if entry.comment:
                _set_eol(node, key, entry.comment)
            continue
        child = node.get(key)
        if not isinstance(child, CommentedMap):
            child = CommentedMap()
            node[key] = child
        tail = _tail_after(node, key)
        tail = apply_section(child, entry, indent + 2) or tail
        if tail and _tail_after(node, key) != tail:
            # the lines that sat above the next key stay above it
            keys = list(node)
            following = keys[keys.index(key) + 1 :]
            if len(child) > 0:
                _set_tail_after(node, key, tail)
            elif following:
                _set_before(node, following[0], tail)
            else:
                orphan = tail
        if entry.above:
            _set_above(node, key, entry.above, indent)
    return orphan


def update_params(text: str, updates: Section) -> str:
    """``params.yaml``'s text with ``updates`` applied (comments, order and other values kept)."""
    handler = _round_trip()
    document = handler.load(text)
    if not isinstance(document, CommentedMap):
        raise ValueError("params.yaml: expected a mapping at the top level")
    apply_section(document, updates)
    out = io.StringIO()
    handler.dump(document, out)
    return out.getvalue()
