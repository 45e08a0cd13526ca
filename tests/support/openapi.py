"""A small, strict stand-in for the API server's structural-schema handling.

Enough of OpenAPI v3 as Kubernetes uses it for CRDs to default and validate our
own manifests and the operator's status patches in unit tests: types, required,
enum, pattern, bounds, lengths, int-or-string, preserve-unknown-fields, and
date-time formats. Unknown fields are errors here (the API server would prune
them silently, which is exactly the drift these tests are for). CEL rules are
not evaluated; the cluster-level tests exercise those.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "k8s" / "crds"
SAMPLES = ROOT / "k8s" / "samples"

Schema = Mapping[str, Any]


def load_crd(name: str) -> dict[str, Any]:
    with (CRDS / f"{name}.yaml").open() as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def root_schema(crd: Mapping[str, Any]) -> Schema:
    version = crd["spec"]["versions"][0]
    schema: Schema = version["schema"]["openAPIV3Schema"]
    return schema


def walk(schema: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node with its JSON path (`.spec.backend.replicas`, `.x[]`, `.m{}`)."""
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), Mapping):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), Mapping):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


def apply_defaults(schema: Schema, value: Any) -> Any:
    """Structural defaulting: absent fields with a default get it, recursively."""
    result = copy.deepcopy(value)
    _default(schema, result)
    return result


def _default(schema: Schema, value: Any) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name, child in properties.items():
            if name not in value and "default" in child:
                value[name] = copy.deepcopy(child["default"])
            if name in value:
                _default(child, value[name])
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            for name, item in value.items():
                if name not in properties:
                    _default(extra, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for item in value:
            _default(schema["items"], item)


def validate(schema: Schema, value: Any, path: str = "") -> list[str]:
    """Every violation as `path: problem`; an empty list means valid."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path or '.'}: null"]
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            return [f"{path}: not an int or string"]
        return _string_checks(schema, value, path) if isinstance(value, str) else []
    kind = schema.get("type")
    check = _CHECKS.get(str(kind))
    if check is None:
        return [f"{path}: schema without a type"]
    return check(schema, value, path)


def _object(schema: Schema, value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: not an object"]
    if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
        return []
    errors = [
        f"{path}.{name}: required" for name in schema.get("required", []) if name not in value
    ]
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for name, item in value.items():
        if name in properties:
            errors += validate(properties[name], item, f"{path}.{name}")
        elif isinstance(extra, Mapping):
            errors += validate(extra, item, f"{path}.{name}")
        elif not schema.get("x-kubernetes-preserve-unknown-fields"):
            errors.append(f"{path}.{name}: unknown field")
    return errors


def _array(schema: Schema, value: Any, path: str) -> list[str]:
    if not isinstance(value, list):
        return [f"{path}: not an array"]
    errors: list[str] = []
    for index, item in enumerate(value):
        errors += validate(schema["items"], item, f"{path}[{index}]")
    keys = schema.get("x-kubernetes-list-map-keys")
    if keys:
        seen = [tuple(item.get(k) for k in keys) for item in value if isinstance(item, dict)]
        if len(seen) != len(set(seen)):
            errors.append(f"{path}: duplicate map keys {keys}")
    return errors + _enum(schema, value, path)


def _enum(schema: Schema, value: Any, path: str) -> list[str]:
    allowed = schema.get("enum")
    return [] if allowed is None or value in allowed else [f"{path}: {value!r} not in {allowed}"]


def _string_checks(schema: Schema, value: str, path: str) -> list[str]:
    errors = _enum(schema, value, path)
    pattern = schema.get("pattern")
    if pattern and not re.search(pattern, value):
        errors.append(f"{path}: {value!r} does not match {pattern}")
    if len(value) < schema.get("minLength", 0):
        errors.append(f"{path}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: longer than {schema['maxLength']}")
    if schema.get("format") == "date-time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            errors.append(f"{path}: {value!r} is not a date-time")
    return errors


def _string(schema: Schema, value: Any, path: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{path}: not a string"]
    return _string_checks(schema, value, path)


def _integer(schema: Schema, value: Any, path: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{path}: not an integer"]
    errors = _enum(schema, value, path)
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: below {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{path}: above {schema['maximum']}")
    return errors


def _boolean(schema: Schema, value: Any, path: str) -> list[str]:
    return [] if isinstance(value, bool) else [f"{path}: not a boolean"]


_CHECKS = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "boolean": _boolean,
}
