from __future__ import annotations

from decimal import Decimal as D

from em_backend.domain import screening

RULES = screening.Rules(suspicious_delta=D("15"), max_source_share=D("0.35"), share_floor=D("15"))


def test_large_delta_is_suspicious_either_sign() -> None:
    assert screening.screen(D("15.01"), "a", {}, RULES).reason == screening.DELTA_REASON
    assert screening.screen(D("-16"), "a", {}, RULES).reason == screening.DELTA_REASON
    assert not screening.screen(D("15"), "a", {}, RULES).suspicious


def test_quiet_symbol_below_floor_is_not_held() -> None:
    assert not screening.screen(D("9"), "a", {}, RULES).suspicious
    assert not screening.screen(D("5"), "a", {"a": D("9")}, RULES).suspicious


def test_dominant_source_over_share_is_held() -> None:
    window = {"a": D("9"), "b": D("5"), "c": D("5")}
    verdict = screening.screen(D("3"), "a", window, RULES)
    assert verdict.suspicious
    assert verdict.reason == screening.SHARE_REASON
    assert "55%" in verdict.detail


def test_balanced_sources_pass() -> None:
    window = {"a": D("6"), "b": D("6"), "c": D("6"), "d": D("6")}
    assert not screening.screen(D("1"), "e", window, RULES).suspicious
    assert not screening.screen(D("-1"), "a", window, RULES).suspicious
