from __future__ import annotations

import hashlib
import hmac

import pytest

from modelwatch.redact import (
    MASK,
    RedactionPolicy,
    find_pii,
    hash_value,
    luhn_valid,
    redact_record,
    redact_text,
    redact_value,
)

# -- cards -----------------------------------------------------------------------------------

VALID_CARDS = [
    "4111111111111111",  # Visa
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "5500 0000 0000 0004",  # Mastercard
    "2223 0031 2200 3222",  # Mastercard 2-series
    "3782 822463 10005",  # Amex, 15 digits
    "6011 1111 1111 1117",  # Discover
    "3530111333300000",  # JCB
    "4222222222222",  # Visa, 13 digits
    "6250941006528599",  # UnionPay
]


@pytest.mark.parametrize("card", VALID_CARDS)
def test_card_numbers_are_redacted(card: str) -> None:
    assert redact_text(f"paid with {card}.") == "paid with [CARD]."
    assert redact_text(card) == "[CARD]"


@pytest.mark.parametrize(
    "text",
    [
        "order 4111111111111112 shipped",  # Luhn fails
        "order number 1234567890123456",  # Luhn fails
        "ts 1764072000123",  # epoch ms: 13 digits, first digit 1 is no card network
        "8000000000000000002",  # passes Luhn, but no card network starts with 8
        "account 41111111111111111111",  # 20 digits: too long for a card
        "4111 1111 11",  # too short
        "ref 4111111111111111x9",  # glued to a word
        "amount 4111111111111111.50",  # a decimal number
    ],
)
def test_card_false_positives_are_kept(text: str) -> None:
    assert redact_text(text, ["card"]) == text


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")
    assert not luhn_valid("12a4")


# -- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["bob@example.com", "Jane.Doe+tag@mail.example.co.uk", "x_y-z%1@sub-domain.example.io", "A1@B2.DE"],
)
def test_email_addresses_are_redacted(address: str) -> None:
    assert redact_text(f"contact <{address}> now") == "contact <[EMAIL]> now"


@pytest.mark.parametrize("text", ["user@localhost", "@handle", "a@b", "price: 3 @ 4.50 EUR", "no at sign here"])
def test_non_emails_are_kept(text: str) -> None:
    assert redact_text(text, ["email"]) == text


def test_email_detection_is_linear_on_hostile_input() -> None:
    import time

    hostile = "a" * 200_000 + "@" + "b" * 1000
    start = time.perf_counter()
    redact_text(hostile)
    assert time.perf_counter() - start < 1.0


# -- phones ----------------------------------------------------------------------------------

PHONES = [
    "+49 30 1234567",
    "+49 (0)30 1234567",
    "+1 (555) 123-4567",
    "+1-555-123-4567",
    "+15551234567",
    "+44 20 7946 0958",
    "+33 1 23 45 67 89",
    "(555) 123-4567",
    "(030) 1234 5678",
    "555-123-4567",
    "555.123.4567",
    "555 123 4567",
    "030 1234567",
    "0151-2345-6789",
    "020 7946 0958",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_redacted(phone: str) -> None:
    assert redact_text(f"call {phone} today") == "call [PHONE] today"
    assert redact_text(phone) == "[PHONE]"


ORDINARY = [
    "amount 1234.56 EUR",
    "total 1,234,567.89",
    "on 2024-01-15 at 10:30:00",
    "2024/01/15",
    "15.01.2024",
    "01-02-2024",
    "host 192.168.100.200",
    "version 1.2.3",
    "id 5551234567",  # a bare run of digits is an id, not a phone
    "order 12345678",
    "qty 3 price 19.99",
    "+5",
    "temp -12.5 to +30",
    "2024-01-15T10:30:00Z",
    "iso 2024-01-15 10:30",
    "zip 10115 Berlin",
    "555-1234",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_are_not_mangled(text: str) -> None:
    assert redact_text(text) == text


def test_several_kinds_in_one_text() -> None:
    text = "bob@example.com paid 4111 1111 1111 1111, call +1 555 123 4567 about order 1234567"
    assert redact_text(text) == "[EMAIL] paid [CARD], call [PHONE] about order 1234567"
    kinds = [m.kind for m in find_pii(text)]
    assert kinds == ["email", "card", "phone"]


def test_only_selected_detectors_run() -> None:
    text = "bob@example.com 4111111111111111 +49 30 1234567"
    assert redact_text(text, ["email"]) == "[EMAIL] 4111111111111111 +49 30 1234567"
    assert redact_text(text, []) == text
    with pytest.raises(ValueError, match="ssn"):
        redact_text(text, ["ssn"])


def test_redact_value_recurses_and_keeps_non_strings() -> None:
    value = {"a": ["x@y.org", 4111111111111111, 1.5, None], "b": ("+49 30 1234567",)}
    assert redact_value(value) == {"a": ["[EMAIL]", 4111111111111111, 1.5, None], "b": ["[PHONE]"]}


# -- policies --------------------------------------------------------------------------------


def test_field_actions() -> None:
    policy = RedactionPolicy(
        fields={"email": "hash", "note": "mask", "ssn": "drop", "empty": "mask"},
        hash_key=b"secret",
    )
    record = {"email": "bob@example.com", "note": "call me", "ssn": "123", "empty": None, "free": "bob@example.com", "n": 3}
    out = redact_record(record, policy)
    expected_hash = "hmac:" + hmac.new(b"secret", b"bob@example.com", hashlib.sha256).hexdigest()
    assert out == {"email": expected_hash, "note": MASK, "empty": None, "free": "[EMAIL]", "n": 3}
    assert record["ssn"] == "123"  # the input is not modified
    assert list(out) == ["email", "note", "empty", "free", "n"]


def test_hash_without_key_drops_never_keeps_clear_text() -> None:
    out = redact_record({"email": "bob@example.com", "x": 1}, RedactionPolicy(fields={"email": "hash"}))
    assert out == {"x": 1}


def test_hash_is_stable_and_keyed() -> None:
    assert hash_value("a", b"k1") == hash_value("a", b"k1")
    assert hash_value("a", b"k1") != hash_value("a", b"k2")
    assert hash_value(True, b"k") == hash_value("true", b"k")
    assert hash_value(42, b"k") == hash_value("42", b"k")


def test_policy_validation_and_dict_form() -> None:
    with pytest.raises(ValueError, match="encrypt"):
        RedactionPolicy(fields={"x": "encrypt"})
    with pytest.raises(ValueError, match="bogus"):
        RedactionPolicy.from_dict({"fields": {}, "bogus": 1})
    policy = RedactionPolicy.from_dict(
        {"fields": {"email": "hash"}, "detectors": ["phone", "email"], "hash_key_env": "MY_KEY"},
        environ={"MY_KEY": "s3cr3t"},
    )
    assert policy.hash_key == b"s3cr3t"
    assert policy.detectors == ("email", "phone")  # canonical order
    assert "s3cr3t" not in repr(policy)


def test_policy_accepts_config_enums() -> None:
    from config.monitors import PiiAction, PiiPolicy

    config = PiiPolicy(fields={"customer_email": PiiAction.hash, "note": PiiAction.mask})
    policy = RedactionPolicy.from_dict(config.model_dump(), environ={"MODELWATCH_PII_KEY": "key"})
    assert dict(policy.fields) == {"customer_email": "hash", "note": "mask"}
    assert policy.hash_key == b"key"


def test_redaction_is_idempotent() -> None:
    policy = RedactionPolicy(fields={"email": "hash", "note": "mask", "ssn": "drop"}, hash_key=b"k")
    record = {"email": "bob@example.com", "note": "x", "ssn": "1", "free": "call +49 30 1234567 or 4111 1111 1111 1111"}
    once = redact_record(record, policy)
    assert redact_record(once, policy) == once
    # A value hashed client-side (any key) is kept by a collector holding another key.
    assert redact_record(once, RedactionPolicy(fields={"email": "hash"}, hash_key=b"other"))["email"] == once["email"]


@pytest.mark.parametrize("hostile", ["1" * 200_000, "1 " * 100_000, "+1 " * 50_000, "(12) " * 40_000, "12 345 " * 30_000, "a." * 100_000 + "@"])
def test_detectors_stay_fast_on_hostile_input(hostile: str) -> None:
    import time

    start = time.perf_counter()
    redact_text(hostile)
    assert time.perf_counter() - start < 1.0


def test_email_glued_to_text_is_still_redacted() -> None:
    assert "bob@" not in redact_text("mail bob@example.comthanks")
