"""YAML in (with line numbers per path), bounded, and deterministic YAML out.

Catalog files are hand-written and reviewed, so :func:`load_with_lines` reads a deliberately small YAML:

- parsed by libyaml (the C parser's event stream; never PyYAML's pure-Python scanner) and built here in one
  pass, with no recursion (deep nesting cannot overflow the stack) and no loader per scalar;
- bounded (:class:`Limits`): the file's size, its nesting depth and the number of values it expands to, aliases
  included. A "billion laughs" file (aliases of aliases) is stopped at the alias that crosses the bound, in
  milliseconds, instead of growing to gigabytes;
- anchors and aliases are allowed (to reuse a block), but an alias to a node that contains it (a recursive
  alias) is an error; merge keys (``<<``), custom and Python tags (``!foo``, ``!!python/...``), non-scalar and
  duplicate mapping keys are errors;
- scalars follow YAML 1.1 (what PyYAML's SafeLoader reads), except that a sexagesimal number (``1:30``, which
  YAML 1.1 reads as 90) is an error: write a duration (``1m30s``) or quote it.

Every error is a :class:`YamlSyntaxError` with the 1-based line; no message echoes a long value back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:  # the C implementations are several times faster; fall back when libyaml is absent
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

HAVE_LIBYAML = _BaseLoader.__name__ == "CSafeLoader"


@dataclass(frozen=True)
class Limits:
    """What one YAML file may hold. ``None``: unbounded."""

    max_bytes: int | None = 1 << 20
    """Size of the file (a large catalog file is ~12 KB)."""
    max_values: int | None = 100_000
    """Values (scalars, mappings, lists) the document expands to, counting every use of an alias in full."""
    max_depth: int | None = 64
    """Nesting of mappings and lists."""


CATALOG_LIMITS = Limits()
ARTIFACT_LIMITS = Limits(max_bytes=None, max_values=None, max_depth=256)
"""For mlmon's own rendered files (read back by check steps): no size bound, but still no recursion."""

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_INT = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_CORE_SCALAR_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MAP_TAGS = {None, "!", "tag:yaml.org,2002:map"}
_SEQ_TAGS = {None, "!", "tag:yaml.org,2002:seq"}
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()
_SHOWN = 40


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def shorten(value: Any, n: int = _SHOWN) -> str:
    """``repr(value)``, cut to about ``n`` characters with the total length said (for messages)."""
    r = repr(value)
    if len(r) <= n + 10:
        return r
    return f"{r[:n]}... ({len(str(value))} characters)"


class _Node:
    __slots__ = ("kind", "value", "line", "size", "tag")

    def __init__(self, kind: str, line: int, tag: str | None = None):
        self.kind = kind  # "map" | "seq" | "scalar"
        self.value: Any = [] if kind != "scalar" else None
        self.line = line
        self.size = 1  # values this node expands to
        self.tag = tag  # scalars: the resolved tag; collections: the anchor while the node is being built


def load_with_lines(text: str, limits: Limits = CATALOG_LIMITS) -> tuple[Any, dict[tuple, int]]:
    """Parse one YAML document; return the data and a map ``path tuple -> 1-based line``.

    Raises :class:`YamlSyntaxError` (with the line) for invalid YAML, anything the module docstring excludes,
    or a file beyond ``limits``.
    """
    if limits.max_bytes is not None:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > limits.max_bytes:
            raise YamlSyntaxError(f"the file is {size} bytes; a catalog file may be at most {limits.max_bytes} "
                                  "bytes (split the service or remove generated content)", None)
    root = _compose(text, limits)
    lines: dict[tuple, int] = {}
    if root is None:
        return None, lines
    return _construct(root, lines), lines


def _compose(text: str, limits: Limits) -> _Node | None:
    loader = _BaseLoader(text)
    anchors: dict[str, _Node] = {}
    open_anchors: dict[int, str] = {}  # id(node) -> anchor, for nodes still being built
    stack: list[_Node] = []
    root: _Node | None = None
    documents = 0
    total = 0
    max_values = limits.max_values if limits.max_values is not None else float("inf")
    max_depth = limits.max_depth if limits.max_depth is not None else float("inf")
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    start_events = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    check_event, get_event = loader.check_event, loader.get_event
    try:
        while check_event():
            event = get_event()
            cls = type(event)
            if cls is scalar_event:
                line = event.start_mark.line + 1
                node = _Node("scalar", line, _scalar_tag(event, line))
                node.value = _value(node.tag, event.value, line)
                total += 1
                if total > max_values:
                    _check_total(total, limits, line)
                if stack:
                    parent = stack[-1]
                    parent.value.append(node)
                    parent.size += 1
                else:
                    root = node
                if event.anchor is not None:
                    anchors[event.anchor] = node
                continue
            if cls in end_events:
                done = stack.pop()
                if done.tag is not None:
                    del open_anchors[id(done)]
                if stack:
                    stack[-1].size += done.size
                continue
            line = event.start_mark.line + 1 if event.start_mark else None
            if cls in start_events:
                allowed = _MAP_TAGS if cls is yaml.MappingStartEvent else _SEQ_TAGS
                if event.tag not in allowed:
                    raise YamlSyntaxError(f"tag {shorten(event.tag)} is not allowed in a catalog file", line)
                node = _Node("map" if cls is yaml.MappingStartEvent else "seq", line)
                total += 1
                if total > max_values:
                    _check_total(total, limits, line)
                if stack:
                    stack[-1].value.append(node)
                else:
                    root = node
                if event.anchor is not None:
                    anchors[event.anchor] = node
                    open_anchors[id(node)] = event.anchor
                    node.tag = event.anchor  # marks an open anchor (collections carry no other tag)
                stack.append(node)
                if len(stack) > max_depth:
                    raise YamlSyntaxError(f"nested more than {limits.max_depth} levels deep", line)
            elif cls is alias_event:
                target = anchors.get(event.anchor)
                if target is None:
                    raise YamlSyntaxError(f"alias *{shorten(event.anchor)[1:-1]} names no anchor defined before it",
                                          line)
                if id(target) in open_anchors:
                    raise YamlSyntaxError(f"recursive alias *{event.anchor}: it refers to a node that contains it",
                                          line)
                total += target.size
                _check_total(total, limits, line, alias=event.anchor)
                if stack:
                    stack[-1].value.append(target)
                    stack[-1].size += target.size
                else:  # pragma: no cover - an alias needs an anchor before it
                    root = target
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlSyntaxError("more than one YAML document (`---`) in the file; a catalog file is "
                                          "one document", line)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    return root


def _check_total(total: int, limits: Limits, line: int | None, alias: str | None = None) -> None:
    if limits.max_values is not None and total > limits.max_values:
        how = f" (the alias *{alias} here brings it over)" if alias else ""
        raise YamlSyntaxError(f"the file expands to more than {limits.max_values} values{how}; aliases of "
                              "aliases can make a small file huge (\"billion laughs\")", line)


_IMPLICIT_FIRST = frozenset(k for k in Resolver.yaml_implicit_resolvers if k is not None)
_WILDCARD = None in Resolver.yaml_implicit_resolvers


def _scalar_tag(event: yaml.ScalarEvent, line: int | None) -> str:
    tag = event.tag
    if tag is None or tag == "!":
        value = event.value
        implicit = event.implicit
        if not implicit[0] or (value and value[0] not in _IMPLICIT_FIRST and not _WILDCARD):
            return _STR  # quoted, or plain and no implicit type starts with its first character
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in event.value:
            as_number = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, event.value))
            raise YamlSyntaxError(f"{shorten(event.value)} is a YAML 1.1 base-60 number (it reads as "
                                  f"{as_number}), not a time: write a duration like 1m30s, or quote it", line)
        return tag  # `<<` (merge) and `=` (value) read as plain strings; a `<<` key is refused in _construct
    if tag not in _CORE_SCALAR_TAGS:
        raise YamlSyntaxError(f"tag {shorten(tag)} is not allowed in a catalog file (only plain YAML values)", line)
    return tag


_DECIMAL = re.compile(r"-?[1-9][0-9]*|0")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")


def _value(tag: str, text: str, line: int | None) -> Any:
    """The Python value of a scalar (YAML 1.1, as SafeLoader reads it; common decimals without its regexps)."""
    if tag in (_STR, _MERGE, _VALUE):
        return text
    if tag == _INT and _DECIMAL.fullmatch(text):
        return int(text)
    if tag == _FLOAT_TAG and _FLOAT.fullmatch(text):
        return float(text)
    try:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        raise YamlSyntaxError(f"{shorten(text)} is not a valid {tag.rsplit(':', 1)[-1]}: {exc}", line) from None


def _construct(root: _Node, lines: dict[tuple, int]) -> Any:
    """Data from the composed nodes, iteratively (an alias's node is built again at each use: the data is a
    tree, as if the block had been written out)."""
    result: list[Any] = []
    # work items: (node, path, setter); setter stores the built value into its parent
    todo: list[tuple[_Node, tuple, Any, Any]] = [(root, (), result, None)]
    while todo:
        node, path, parent, key = todo.pop()
        lines[path] = node.line
        if node.kind == "scalar":
            value: Any = node.value
        elif node.kind == "seq":
            value = [None] * len(node.value)
            for i in range(len(node.value) - 1, -1, -1):
                todo.append((node.value[i], path + (i,), value, i))
        else:
            value = {}
            items = node.value
            for i in range(0, len(items), 2):
                k_node, v_node = items[i], items[i + 1]
                if k_node.kind != "scalar":
                    raise YamlSyntaxError("mapping keys must be plain scalars", k_node.line)
                if k_node.tag == _MERGE:
                    raise YamlSyntaxError("merge keys (`<<`) are not allowed in a catalog file: write the keys "
                                          "out, so a reviewer sees every value where it applies", k_node.line)
                k = k_node.value
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    raise YamlSyntaxError(f"mapping key {shorten(k)} must be a string or a number", k_node.line)
                if k in value:
                    raise YamlSyntaxError(f"duplicate key {shorten(k)}", k_node.line)
                value[k] = None
            for i in range(len(items) - 2, -1, -2):
                k = items[i].value
                todo.append((items[i + 1], path + (k,), value, k))
        if parent is result:
            result.append(value)
        else:
            parent[key] = value
    return result[0]


class _Dumper(_BaseDumper):
    pass


def _str_representer(dumper: yaml.Dumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    """Deterministic block YAML: keys in insertion order, no aliases, multi-line strings as ``|``."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1_000_000)


def dump_all(docs: list[Any]) -> str:
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                         width=1_000_000, explicit_start=True)
