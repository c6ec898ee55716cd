"""Reading a user's YAML (contracts.yaml, scenarios, mappings) without trusting its shape.

``yaml.safe_load`` builds no objects from tags, but it will still spend minutes and
gigabytes on a kilobyte of aliases that refer to aliases, recurse until Python gives up on
deep nesting, and raise a bare ``ValueError`` for a date like 2024-02-30. This reader bounds
the file's size, its nesting depth (measured on the event stream, before anything recursive
runs) and the size of the document once every alias is expanded, and turns every failure
into an :class:`InputError` naming the file and, where YAML knows it, the line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from casefund.errors import InputError

MAX_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_NODES = 200_000  # scalars, lists and mappings once aliases are expanded


class _Constructor(yaml.SafeLoader):
    """The safe loader, with dates that fail to parse reported at their position."""


def _timestamp(loader: _Constructor, node: yaml.Node) -> dt.date | dt.datetime:
    try:
        value: dt.date | dt.datetime = loader.construct_yaml_timestamp(node)  # type: ignore[arg-type]
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"'{node.value}' is not a valid date ({exc})", node.start_mark
        ) from None
    return value


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml_file(path: Path, what: str = "file") -> Any:
    """The YAML document in ``path`` (``what`` names it in messages)."""
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a folder, not a {what}")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"{path}: {size:,} bytes is too large for a {what} (at most {MAX_BYTES:,})"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return parse_yaml(data, str(path))


def parse_yaml(data: bytes | str, origin: str) -> Any:
    """One YAML document from bytes or text, bounded as described above."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise InputError(f"{origin}: too large (at most {MAX_BYTES:,} bytes)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{origin}: not UTF-8 text (byte {exc.start} cannot be read); save it as UTF-8"
            ) from None
    else:
        text = data
    try:
        _check_depth(text, origin)
        loader = _Constructor(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expanded_size(node, origin)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise InputError(f"{origin}: not valid YAML{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{origin}: not valid YAML ({exc})") from None
    except (RecursionError, MemoryError):
        raise InputError(f"{origin}: nested or repeated too deeply to read") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{origin}: a value cannot be read ({exc})") from None


def _check_depth(text: str, origin: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise InputError(
                    f"{origin}: nested more than {MAX_DEPTH} levels deep (line "
                    f"{line}); a contracts file is a few levels deep"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expanded_size(root: yaml.Node, origin: str) -> None:
    """The number of nodes the document has once every alias is expanded, counted over the
    shared graph (each node once, with its expanded size remembered)."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done and any(id(child) in visiting for child in children):
            raise InputError(f"{origin}: refers to itself through an alias; refused")
        if children_done or not children:
            visiting.discard(id(node))
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > MAX_NODES:
                raise InputError(
                    f"{origin}: expands to more than {MAX_NODES:,} values once "
                    "its aliases (*name) are followed; refused (an alias bomb?)"
                )
            sizes[id(node)] = total
            continue
        visiting.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
