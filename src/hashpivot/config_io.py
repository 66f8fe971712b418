"""Reading YAML input: parsing, validation with field-path messages, and ``--set`` overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; unreadable or malformed files raise :class:`ConfigError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read: {exc}"]) from None
    return parse_yaml_text(text, str(p))


def parse_yaml_text(text: str, source: str) -> dict[str, Any]:
    """Parse YAML text that must be a mapping; malformed text raises :class:`ConfigError`."""
    p = source
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(p, [f"malformed YAML at {where}{problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(p, [f"top level must be a mapping of keys, got {type(data).__name__}"])
    return data


def loc_path(loc: tuple[str | int, ...], prefix: str = "") -> str:
    """``("sites", 0, "pue")`` → ``sites[0].pue``."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
    return path


def format_validation_error(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem: ``field.path: value — what is allowed``."""
    lines = []
    for err in exc.errors(include_url=False):
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
            lines.append(f"{where}: {value!r} is {word} {ctx.get(bound)}; allowed: {msg.lower()}")
        elif kind == "finite_number":
            lines.append(
                f"{where}: {value!r} is not allowed; allowed: a finite number (no NaN/inf)"
            )
        else:
            lines.append(f"{where}: {value!r} is not allowed; {msg}")
    return lines


_RANGE_WORDS = {
    "greater_than": ("not above", "gt"),
    "greater_than_equal": ("below", "ge"),
    "less_than": ("not below", "lt"),
    "less_than_equal": ("above", "le"),
}


def validate(model: type[BaseModel], data: Any, source: str) -> Any:
    """Validate ``data`` against ``model``; failures raise :class:`ConfigError` with field paths."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        locs = [tuple(err["loc"]) for err in exc.errors(include_url=False)]
        raise ConfigError(source, format_validation_error(exc), locs) from None


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.path[index].field=value`` overrides (values parsed as YAML scalars) to raw plan
    data. A path that does not exist is an error naming it."""
    import copy
    import re

    out = copy.deepcopy(data)
    token = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--set", [f"{item!r} is not allowed; allowed: KEY=VALUE"])
        parts = []
        pos = 0
        for m in token.finditer(key.strip()):
            if m.start() != pos and key.strip()[pos : m.start()] != ".":
                raise ConfigError("--set", [f"{key!r}: malformed key path"])
            parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
            pos = m.end()
        if pos != len(key.strip()):
            raise ConfigError("--set", [f"{key!r}: malformed key path"])
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ConfigError("--set", [f"{key}: value {raw!r} is not valid YAML"]) from None
        node: Any = out
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
                    raise ConfigError("--set", [f"{here}: index {part} out of range (size {size})"])
            elif not isinstance(node, dict):
                raise ConfigError("--set", [f"{here}: not a mapping"])
            if last:
                node[part] = value
            else:
                if isinstance(part, str) and part not in node:
                    node[part] = {}
                node = node[part]
    return out
