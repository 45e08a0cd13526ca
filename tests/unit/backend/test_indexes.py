from __future__ import annotations

from decimal import Decimal as D

import pytest

from em_backend.domain import indexes

C = indexes.Component


def test_weighted_average_of_components() -> None:
    comps = [C("AAA", D("0.25")), C("BBB", D("0.75"))]
    assert indexes.weighted_average(comps, {"AAA": D("60"), "BBB": D("20")}) == D("30.00")


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([], "at least one"),
        ([C("IDX", D("1"))], "itself"),
        ([C("AAA", D("0.5")), C("AAA", D("0.5"))], "twice"),
        ([C("AAA", D("0.5")), C("BBB", D("0.4"))], "sum to"),
        ([C("AAA", D("0")), C("BBB", D("1"))], "weight"),
    ],
)
def test_invalid_definitions(components: list[indexes.Component], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        indexes.validate("IDX", components)


def test_round_trip_and_containing() -> None:
    comps = [C("AAA", D("0.5")), C("BBB", D("0.5"))]
    assert indexes.parse(indexes.dump(comps)) == comps
    defs = {"I1": comps, "I2": [C("BBB", D("1"))], "I3": [C("CCC", D("1"))]}
    assert indexes.containing("BBB", defs) == ["I1", "I2"]
    assert indexes.containing("ZZZ", defs) == []
