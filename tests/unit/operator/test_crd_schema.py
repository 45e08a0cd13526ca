"""The CRDs are structural, documented, and agree with the operator's code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from em_operator.runbook import specs
from tests.support import openapi

CRDS = ("everythingmarkets", "marketbackups", "marketrestores")
OBJECT_KEYS = {"properties", "additionalProperties", "x-kubernetes-preserve-unknown-fields"}


def schema_of(name: str) -> dict[str, Any]:
    return dict(openapi.root_schema(openapi.load_crd(name)))


def samples(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(openapi.SAMPLES.glob("*.yaml")):
        with path.open() as handle:
            document = yaml.safe_load(handle)
        if document["kind"] == kind:
            found.append((path, document))
    return found


@pytest.mark.parametrize("name", CRDS)
def test_every_node_has_a_type_and_every_field_a_description(name: str) -> None:
    missing_type, missing_description = [], []
    root = schema_of(name)
    for path, node in openapi.walk(root):
        if "type" not in node and not node.get("x-kubernetes-int-or-string"):
            missing_type.append(path or "<root>")
        named_field = path and not path.endswith(("[]", "{}"))
        if named_field and not str(node.get("description", "")).strip():
            missing_description.append(path)
    assert not missing_type, f"nodes without a type: {missing_type}"
    assert not missing_description, f"fields without a description: {missing_description}"


@pytest.mark.parametrize("name", CRDS)
def test_schema_follows_the_structural_rules(name: str) -> None:
    problems = []
    for path, node in openapi.walk(schema_of(name)):
        if node.get("type") != "object" and OBJECT_KEYS & set(node):
            problems.append(f"{path}: object keywords on a {node.get('type')}")
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{path}: both properties and additionalProperties")
        for key in node.get("x-kubernetes-list-map-keys", []):
            if key not in node["items"].get("required", []):
                problems.append(f"{path}: list-map key {key} must be required")
        for required in node.get("required", []):
            if required not in node.get("properties", {}):
                problems.append(f"{path}: requires unknown field {required}")
        if "default" in node:
            problems += openapi.validate(
                node, openapi.apply_defaults(node, node["default"]), f"{path}(default)"
            )
        if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
            problems.append(f"{path}: anyOf outside int-or-string")
    assert not problems


@pytest.mark.parametrize("name", CRDS)
def test_crd_identity(name: str) -> None:
    crd = openapi.load_crd(name)
    assert crd["metadata"]["name"] == f"{name}.everythingmarket.io"
    assert crd["spec"]["group"] == "everythingmarket.io"
    assert crd["spec"]["names"]["plural"] == name
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}


def test_everythingmarket_short_name_and_printer_columns() -> None:
    crd = openapi.load_crd("everythingmarkets")
    assert crd["spec"]["names"]["shortNames"] == ["em"]
    columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]
    default = [c["name"] for c in columns if not c.get("priority")]
    assert default == ["Phase", "Version", "Ready", "Maintenance", "Last Backup", "Age"]


@pytest.mark.parametrize("name", CRDS)
def test_printer_columns_point_at_fields_that_exist(name: str) -> None:
    crd = openapi.load_crd(name)
    paths = {path for path, _ in openapi.walk(openapi.root_schema(crd))}
    for column in crd["spec"]["versions"][0]["additionalPrinterColumns"]:
        json_path = column["jsonPath"].split("[?")[0]
        if json_path.startswith(".metadata."):
            continue
        suffix = "[]" if "[?" in column["jsonPath"] else ""
        assert json_path + suffix in paths, column


@pytest.mark.parametrize("name", ("marketbackups", "marketrestores"))
def test_one_off_operations_have_an_immutable_spec(name: str) -> None:
    spec = schema_of(name)["properties"]["spec"]
    rules = [rule["rule"] for rule in spec["x-kubernetes-validations"]]
    assert "self == oldSelf" in rules
    assert "phase" in schema_of(name)["properties"]["status"]["properties"]


def test_cel_rules_guard_what_a_plain_schema_cannot() -> None:
    spec = schema_of("everythingmarkets")["properties"]["spec"]
    fields = spec["properties"]
    rules = {
        "shards": fields["orderbook"]["properties"]["shards"],
        "rotation": fields["secrets"]["properties"]["rotationGeneration"],
        "ingress": fields["ingress"],
        "maintenance": fields["maintenance"],
        "spec": spec,
    }
    texts = {k: [r["rule"] for r in v["x-kubernetes-validations"]] for k, v in rules.items()}
    assert texts["shards"] == ["self == oldSelf"]
    assert texts["rotation"] == ["self >= oldSelf"]
    assert "!(has(self.enabled) && self.enabled) || has(self.host)" in texts["ingress"]
    assert all(r["message"] for v in rules.values() for r in v["x-kubernetes-validations"])


@pytest.mark.parametrize(
    ("kind", "crd"),
    [
        ("EverythingMarket", "everythingmarkets"),
        ("MarketBackup", "marketbackups"),
        ("MarketRestore", "marketrestores"),
    ],
)
def test_samples_are_valid_after_defaulting(kind: str, crd: str) -> None:
    schema = schema_of(crd)
    found = samples(kind)
    assert found, f"no sample of {kind}"
    for path, document in found:
        body = {k: v for k, v in document.items() if k != "metadata"}
        problems = openapi.validate(schema, openapi.apply_defaults(schema, body))
        assert not problems, (path.name, problems)


def test_the_validator_rejects_what_the_api_server_would() -> None:
    schema = schema_of("everythingmarkets")
    body = {
        "apiVersion": "everythingmarket.io/v1alpha1",
        "kind": "EverythingMarket",
        "spec": {
            "version": "1.0.0",
            "database": {"secretRef": {"name": "db"}},
            "backend": {"replicas": 101},
            "reality": {"pollInterval": "soon"},
            "bogus": True,
        },
    }
    problems = openapi.validate(schema, openapi.apply_defaults(schema, body))
    assert {p.split(":")[0] for p in problems} == {
        ".spec.backend.replicas",
        ".spec.reality.pollInterval",
        ".spec.bogus",
    }


@pytest.mark.parametrize("sample", ["everythingmarket-minimal.yaml", "everythingmarket-full.yaml"])
def test_crd_defaults_equal_the_operator_defaults(sample: str) -> None:
    schema = schema_of("everythingmarkets")
    with (openapi.SAMPLES / sample).open() as handle:
        raw = yaml.safe_load(handle)["spec"]
    defaulted = openapi.apply_defaults(schema["properties"]["spec"], raw)
    assert specs.parse(defaulted) == specs.parse(raw)


def test_every_crd_default_is_one_the_operator_reads() -> None:
    """A default added to the CRD must be mirrored in specs.py (or be part 2's)."""
    schema = schema_of("everythingmarkets")["properties"]["spec"]
    minimal = {"version": "1.0.0", "database": {"secretRef": {"name": "db"}}}
    parsed = specs.parse(minimal)
    assert (
        parsed.image.repository
        == schema["properties"]["image"]["properties"]["repository"]["default"]
    )
    assert (
        parsed.backend.replicas
        == schema["properties"]["backend"]["properties"]["replicas"]["default"]
    )
    assert (
        parsed.rollback.progress_deadline_seconds
        == schema["properties"]["rollback"]["properties"]["progressDeadlineSeconds"]["default"]
    )
    assert parsed.reality.poll_interval_seconds == 300
