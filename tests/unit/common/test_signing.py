from __future__ import annotations

import pytest

from em_common import errors, signing

BODY = signing.canonical_json({"b": 1, "a": "ünï", "n": [1, 2]})


def test_canonical_json_is_order_independent() -> None:
    assert signing.canonical_json({"a": 1, "b": 2}) == signing.canonical_json({"b": 2, "a": 1})
    assert '{"a":"ünï","b":1,"n":[1,2]}'.encode() == BODY


def test_valid_signature_accepted() -> None:
    signing.verify(BODY, signing.sign(BODY, "s3cret"), ["s3cret"])


def test_uppercase_hex_accepted() -> None:
    signing.verify(BODY, signing.sign(BODY, "s3cret").upper(), ["s3cret"])


def test_flipped_byte_rejected() -> None:
    sig = signing.sign(BODY, "s3cret")
    tampered = BODY.replace(b"1", b"2", 1)
    with pytest.raises(errors.SignatureError):
        signing.verify(tampered, sig, ["s3cret"])
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    with pytest.raises(errors.SignatureError):
        signing.verify(BODY, flipped, ["s3cret"])


def test_wrong_secret_and_empty_header_rejected() -> None:
    with pytest.raises(errors.SignatureError):
        signing.verify(BODY, signing.sign(BODY, "other"), ["s3cret"])
    for empty in ("", None):
        with pytest.raises(errors.SignatureError, match="missing"):
            signing.verify(BODY, empty, ["s3cret"])


def test_previous_secret_only_while_listed() -> None:
    old = signing.sign(BODY, "old-secret")
    signing.verify(BODY, old, ["new-secret", "old-secret"])
    with pytest.raises(errors.SignatureError):
        signing.verify(BODY, old, ["new-secret"])


def test_no_secret_configured_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError):
        signing.verify(BODY, "ab", ["", ""])


def test_fingerprint_does_not_reveal_the_secret() -> None:
    fp = signing.fingerprint("s3cret")
    assert len(fp) == 12 and "s3cret" not in fp
    assert fp == signing.fingerprint("s3cret") != signing.fingerprint("s3cret2")
