"""The recorded migration graph and the migrate Job's report."""

from __future__ import annotations

import json

import pytest

from em_operator import errors
from em_operator.runbook import migrations

LINEAR = migrations.MigrationCatalog.of(
    [
        migrations.MigrationStep("a1", ()),
        migrations.MigrationStep("b1", ("a1",)),
        migrations.MigrationStep("c1", ("b1",), data_losing=True),
    ]
)


def test_undone_on_a_linear_history() -> None:
    assert LINEAR.undone("c1", "a1") == frozenset({"b1", "c1"})
    assert LINEAR.undone("c1", "c1") == frozenset()
    assert LINEAR.losing(LINEAR.undone("c1", "a1") or ()) == ("c1",)


def test_undone_is_unknown_when_the_target_is_not_below_or_the_graph_has_a_gap() -> None:
    assert LINEAR.undone("a1", "c1") is None
    gap = migrations.MigrationCatalog.of([migrations.MigrationStep("z9", ("y8",))])
    assert gap.undone("z9", "a1") is None


def test_merge_revisions_walk_both_branches() -> None:
    graph = migrations.MigrationCatalog.of(
        [
            migrations.MigrationStep("base", ()),
            migrations.MigrationStep("left", ("base",)),
            migrations.MigrationStep("right", ("base",)),
            migrations.MigrationStep("merge", ("left", "right")),
        ]
    )
    assert graph.undone("merge", "base") == frozenset({"merge", "left", "right"})
    assert graph.undone("merge", "left") == frozenset({"merge", "right"})
    unrecorded = graph.merged(
        migrations.MigrationCatalog.of([migrations.MigrationStep("m2", ("merge", "x0"))])
    )
    assert unrecorded.undone("m2", "merge") is None
    assert graph.descends("merge", "base") and not graph.descends("base", "merge")


def test_catalogs_merge_markers() -> None:
    extra = migrations.MigrationCatalog(data_losing=frozenset({"b1"}))
    assert LINEAR.merged(extra).losing(["a1", "b1", "c1"]) == ("b1", "c1")


def test_plain_head_report() -> None:
    assert migrations.parse_report("c0ffee\n") == migrations.MigrationReport("c0ffee")


def test_json_report() -> None:
    text = json.dumps(
        {"head": "c1", "applied": [{"revision": "c1", "down": "b1", "dataLosing": True}]}
    )
    report = migrations.parse_report(text)
    assert report.head == "c1"
    assert report.applied == (migrations.MigrationStep("c1", ("b1",), True),)


@pytest.mark.parametrize(
    "text", ["", "Traceback (most recent call last):", "{", '{"x": 1}', '{"head": ""}']
)
def test_unreadable_reports(text: str) -> None:
    with pytest.raises(errors.InvalidReport):
        migrations.parse_report(text)


def test_catalog_from_status_reads_history_and_rollout() -> None:
    step = {"revision": "b1", "down": ["a1"], "dataLosing": True}
    status = {
        "history": [{"revision": 1, "migrations": [step]}],
        "rollout": {"migrations": [{"revision": "c1", "down": ["b1"]}]},
    }
    catalog = migrations.catalog_from_status(status)
    assert catalog.undone("c1", "a1") == frozenset({"b1", "c1"})
    assert catalog.data_losing == {"b1"}
