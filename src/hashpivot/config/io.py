"""Reading YAML input: parsing, validation with field-path messages, and ``--set`` overrides."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import ConfigError


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file with the limits of :func:`parse_yaml_text`.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    Any
        The parsed document.

    Raises
    ------
    ConfigError
        The file is unreadable or malformed (with its line and column).
    """
    return parse_yaml_text(read_text(path), str(path))


def read_text(path: str | Path) -> str:
    """A configuration file's text (UTF-8).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    str
        Its text.

    Raises
    ------
    ConfigError
        The file is missing or unreadable.
    """
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read: {exc}"]) from None


#: Largest magnitude of any number in a plan, site file or campaign (1e18 USD is 10,000× world
#: GDP; sums of a few stay finite).
MAX_MAGNITUDE = 1e18
#: Deepest nesting of mappings and lists a YAML input may have.
MAX_YAML_DEPTH = 50
#: Most nodes a YAML input may hold once its aliases are expanded (an example plan has ~2,000):
#: a few kilobytes of nested aliases cannot become millions of nodes.
MAX_YAML_NODES = 100_000
#: Most validation problems listed in one error (the rest are counted).
MAX_ERRORS = 50
#: Longest input value quoted back in a message [characters].
MAX_VALUE_CHARS = 80


#: libyaml's parser when PyYAML was built with it (tens of times faster on hostile input).
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictModel(BaseModel):
    """The one base of every schema model: unknown keys refused, frozen, no NaN/inf, strict
    numbers (no ``true``/``yes``/``'1e3'``; dates and pairs given as text or lists are
    converted where a field says ``strict=False``), and no magnitude above
    :data:`MAX_MAGNITUDE`."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, v: Any) -> Any:
        # No number so large that sums of a few overflow to inf (1e308 gave a null funding gap).
        if isinstance(v, float) and abs(v) > MAX_MAGNITUDE:
            raise ValueError(f"{v:g} is too large; allowed: magnitude at most {MAX_MAGNITUDE:g}")
        return v


# PyYAML picks its C or Python loader at run time: the base is a variable, which mypy cannot
# follow as a class (the one justified ignore of the package).
class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader with YAML 1.2 floats (``1e3``, ``1.0e6``; YAML 1.1 reads them as
    text) and duplicate keys refused (YAML forbids them; PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing duplicate keys (YAML merge keys are allowed)."""
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: let PyYAML say so
                continue
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {str(key)[:MAX_VALUE_CHARS]!r} (first at line "
                    f"{first.start_mark.line + 1}); allowed: each key once",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document once every alias is expanded (aliases share node objects, so the
    composed graph is small; this counts it as the constructed data would be), without
    recursion."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
            if isinstance(node, yaml.SequenceNode)
            else []
        )
        if done or not children:
            total = 1 + sum(size.get(id(c), 0) for c in children)
            size[id(node)] = total
            if total > MAX_YAML_NODES:
                return total
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)]


def parse_yaml_text(text: str, source: str) -> dict[str, Any]:
    """Parse YAML text that must be a mapping.

    Bounded whatever the input: nesting deeper than :data:`MAX_YAML_DEPTH` and documents that
    expand (through aliases) to more than :data:`MAX_YAML_NODES` nodes are refused before anything
    is built, and duplicate keys are errors.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str
        Where the text came from (a file name, ``"upload"``), used in errors.

    Returns
    -------
    dict
        The top-level mapping.

    Raises
    ------
    ConfigError
        Malformed text, a document that is not a mapping, or one past the limits.
    """
    data = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(
            source, [f"top level must be a mapping of keys, got {type(data).__name__}"]
        )
    return data


def load_yaml(text: str, source: str) -> Any:
    """One YAML document with the limits of :func:`parse_yaml_text` (any type at the top).

    Parameters
    ----------
    text : str
        The YAML text.
    source : str
        Where the text came from, used in errors.

    Returns
    -------
    Any
        The parsed document.

    Raises
    ------
    ConfigError
        Malformed text or a document past the limits.
    """
    p = source
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):  # a stream of events: no recursion
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    mark = event.start_mark
                    raise ConfigError(
                        p,
                        [
                            f"line {mark.line + 1 if mark else '?'}: nesting deeper than "
                            f"{MAX_YAML_DEPTH} levels is not allowed"
                        ],
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                data = None
            else:
                n = _expanded_size(node)
                if n > MAX_YAML_NODES:
                    raise ConfigError(
                        p,
                        [
                            f"more than {MAX_YAML_NODES:,} values once aliases are expanded is "
                            "not allowed (aliases may repeat a block, not multiply it)"
                        ],
                    )
                data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(p, [f"malformed YAML at {where}{problem}"[:300]]) from None
    except RecursionError:
        raise ConfigError(p, ["nesting too deep to read"]) from None
    return data


def _short(value: Any) -> str:
    """``repr(value)``, cut to :data:`MAX_VALUE_CHARS` (messages never echo a large input)."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def loc_path(loc: tuple[str | int, ...], prefix: str = "") -> str:
    """A pydantic error location as a field path: ``("sites", 0, "pue")`` → ``sites[0].pue``.

    Parameters
    ----------
    loc : tuple of str or int
        The location.
    prefix : str
        Prepended to the path (the API's body path, say).

    Returns
    -------
    str
        The dotted path with list indices in brackets.
    """
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
    return path


def format_validation_error(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem: ``field.path: value — what is allowed``.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error pydantic raised.
    prefix : str
        Prepended to every field path.

    Returns
    -------
    list of str
        The lines, at most :data:`MAX_ERRORS`.
    """
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_ERRORS]:
        path = loc_path(err["loc"], prefix)
        msg = err["msg"].removeprefix("Value error, ")
        kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
        where = path or "(top level)"
        if isinstance(value, dict | list) and kind not in ("missing", "extra_forbidden"):
            # A rule over several fields: the message names what is wrong.
            lines.append(f"{path}: {msg}" if path else msg)
        elif kind == "missing":
            lines.append(f"{where}: missing; required field")
        elif kind == "extra_forbidden":
            lines.append(f"{where}: unknown key (check the spelling)")
        elif kind in _RANGE_WORDS:
            word, bound = _RANGE_WORDS[kind]
            lines.append(
                f"{where}: {_short(value)} is {word} {ctx.get(bound)}; allowed: {msg.lower()}"
            )
        elif kind == "finite_number":
            lines.append(
                f"{where}: {_short(value)} is not allowed; allowed: a finite number (no NaN/inf)"
            )
        else:
            lines.append(f"{where}: {_short(value)} is not allowed; {msg[:200]}")
    if len(errors) > MAX_ERRORS:
        lines.append(
            f"… and {len(errors) - MAX_ERRORS:,} more problems (the first {MAX_ERRORS} shown)"
        )
    return lines


_RANGE_WORDS = {
    "greater_than": ("not above", "gt"),
    "greater_than_equal": ("below", "ge"),
    "less_than": ("not below", "lt"),
    "less_than_equal": ("above", "le"),
}


def validate(model: type[BaseModel], data: Any, source: str) -> Any:
    """Validate ``data`` against ``model``.

    Parameters
    ----------
    model : type of pydantic.BaseModel
        The schema (e.g. ``PlanConfig``).
    data : Any
        Raw data parsed from YAML or JSON.
    source : str
        Where the data came from, used in errors.

    Returns
    -------
    Any
        The validated model instance.

    Raises
    ------
    ConfigError
        One line per problem, with field paths.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        locs = [tuple(err["loc"]) for err in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            locs.append(())  # the "… and N more" line is about no one field
        raise ConfigError(source, format_validation_error(exc), locs) from None
    except RecursionError:
        raise ConfigError(source, ["nesting too deep to validate"]) from None


_KEY_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def key_path(key: str, source: str) -> list[str | int]:
    """``sites[0].power_mw`` → ``["sites", 0, "power_mw"]``.

    Parameters
    ----------
    key : str
        A field path.
    source : str
        What gave the path (the CLI's ``--set``, the library's ``overrides``), used in errors.

    Returns
    -------
    list of str or int
        The path's steps.

    Raises
    ------
    InputError
        A malformed path, naming ``source``.
    """
    key = key.strip()
    parts: list[str | int] = []
    pos = 0
    for m in _KEY_TOKEN.finditer(key):
        if m.start() != pos and key[pos : m.start()] != ".":
            raise ConfigError(source, [f"{key!r}: malformed key path"])
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not key or pos != len(key):
        raise ConfigError(source, [f"{key!r}: malformed key path"])
    return parts


def set_value(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set ``key`` in raw plan ``data`` in place, creating mappings on the way.

    Parameters
    ----------
    data : dict
        Raw plan data (changed in place).
    key : str
        A field path as in :func:`key_path`.
    value : Any
        The value to set.
    source : str
        What gave the path, used in errors.

    Raises
    ------
    InputError
        A list index out of range or a step into a scalar, naming the path.
    """
    parts = key_path(key, source)
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = (
            key.strip()
            if last
            else "".join(
                f"[{p}]" if isinstance(p, int) else (("." if i else "") + p)
                for i, p in enumerate(parts[: depth + 1])
            )
        )
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                size = len(node) if isinstance(node, list) else 0
                raise ConfigError(source, [f"{here}: index {part} out of range (size {size})"])
        elif not isinstance(node, dict):
            raise ConfigError(source, [f"{here}: not a mapping"])
        if last:
            node[part] = value
        else:
            if isinstance(part, str) and part not in node:
                node[part] = {}
            node = node[part]


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.path[index].field=value`` overrides to a copy of raw plan data.

    The CLI's ``--set``; values are parsed as YAML scalars. A path that does not exist is an error
    naming it.

    Parameters
    ----------
    data : dict
        Raw plan data (not changed).
    overrides : list of str
        ``path=value`` items.

    Returns
    -------
    dict
        A copy with the overrides applied.

    Raises
    ------
    InputError
        An item without ``=`` or a path that does not exist.
    """
    out = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--set", [f"{item!r} is not allowed; allowed: KEY=VALUE"])
        key_path(key, "--set")
        try:
            value = load_yaml(raw, "--set")
        except ConfigError as exc:
            raise ConfigError(
                "--set",
                [f"{key}: value {_short(raw)} is not valid YAML ({'; '.join(exc.messages)})"],
            ) from None
        set_value(out, key, value, "--set")
    return out


def apply_values(
    data: dict[str, Any], values: Mapping[str, Any], source: str = "overrides"
) -> dict[str, Any]:
    """Apply typed overrides ``{key path: value}`` to a copy of raw plan data.

    Python values, no text round trip; the validation that follows checks each value like any
    other.

    Parameters
    ----------
    data : dict
        Raw plan data (not changed).
    values : mapping of str to Any
        Field paths (as in :func:`key_path`) to values.
    source : str
        What gave the values, used in errors.

    Returns
    -------
    dict
        A copy with the values set.
    """
    out = copy.deepcopy(data)
    for key, value in values.items():
        if not isinstance(key, str):
            raise ConfigError(source, [f"{key!r}: a key path must be a string"])
        set_value(out, key, _plain(value), source)
    return out


def _plain(value: Any) -> Any:
    """A Python value as plain YAML data: NumPy scalars to numbers, tuples to lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return copy.deepcopy(value)
