"""Prediction ids under the PII policy: ``redact_prediction_id`` (pure) and the SDK applying it
to predictions and labels alike, so a label still joins its prediction."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable

import pytest

from modelwatch import Client
from modelwatch.in_memory import InMemoryTransport
from modelwatch.payloads import label_record, wire_id
from modelwatch.redact import DETECTORS, RedactionPolicy, hash_value, redact_text
from modelwatch.redact_ids import _id_has_pii, redact_prediction_id

KEY = b"id-key"
EMAIL = "jane.doe@example.com"
PHONE = "+49 30 1234567"
CARD = "4111111111111111"


def policy(**options: object) -> RedactionPolicy:
    options.setdefault("hash_key", KEY)
    return RedactionPolicy(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("pii_id", [EMAIL, PHONE, CARD, "555-123-4567", f"order for {EMAIL}", "030 1234567"])
def test_detect_hashes_an_id_holding_pii_as_a_whole(pii_id: str) -> None:
    assert redact_prediction_id(pii_id, policy()) == hash_value(pii_id, KEY)


@pytest.mark.parametrize("plain_id", ["req-42", str(uuid.UUID(int=7)), uuid.UUID(int=99).hex, "1700000000123",
                                      "4111111111111112", "order-2024-11-25-000123", "a1b2c3"])
def test_detect_keeps_ids_without_pii(plain_id: str) -> None:
    assert redact_prediction_id(plain_id, policy()) == plain_id


def test_hash_hashes_every_id_and_keep_none() -> None:
    assert redact_prediction_id("req-42", policy(prediction_id="hash")) == hash_value("req-42", KEY)
    assert redact_prediction_id(EMAIL, policy(prediction_id="keep")) == EMAIL


def test_detect_without_detectors_keeps_ids() -> None:
    assert redact_prediction_id(EMAIL, policy(detectors=())) == EMAIL


def test_an_id_to_hash_without_a_key_is_none_and_a_hashed_id_is_kept() -> None:
    assert redact_prediction_id(EMAIL, policy(hash_key=None)) is None
    assert redact_prediction_id("req-1", policy(hash_key=None, prediction_id="hash")) is None
    hashed = hash_value(EMAIL, KEY)
    assert redact_prediction_id(hashed, policy(prediction_id="hash")) == hashed


def test_unknown_action_is_refused_and_the_dict_form_carries_it() -> None:
    with pytest.raises(ValueError, match="prediction_id action 'scramble'"):
        policy(prediction_id="scramble")
    loaded = RedactionPolicy.from_dict({"prediction_id": "hash", "detectors": [], "hash_key": "k"})
    assert loaded.prediction_id == "hash" and not loaded.is_noop()
    assert RedactionPolicy(detectors=()).is_noop()


def test_fast_paths_agree_with_the_detectors() -> None:
    # The shortcuts for letters-and-digits ids and canonical UUIDs must never miss what the
    # detectors would find: compare on ids built to sit near the edges (digit runs, separators).
    rng = random.Random(11)
    makers: list[Callable[[], str]] = [
        lambda: str(uuid.UUID(int=rng.getrandbits(128))),
        lambda: uuid.UUID(int=rng.getrandbits(128)).hex,
        lambda: "".join(rng.choice(string.digits) for _ in range(rng.randint(8, 20))),
        lambda: "".join(rng.choice("0123456789ab") for _ in range(rng.randint(8, 24))),
        lambda: "".join(rng.choice("0123456789" * 3 + "ab- ") for _ in range(rng.randint(8, 36))),
        lambda: "-".join("".join(rng.choice(string.digits) for _ in range(n)) for n in (8, 4, 4, 4, 12)),
    ]
    for _ in range(20_000):
        text = rng.choice(makers)()
        assert _id_has_pii(text, DETECTORS) == (redact_text(text) != text), text


def test_label_records_carry_the_redacted_id() -> None:
    p = policy()
    # prediction_record and label_record both take their id from wire_id.
    assert wire_id(EMAIL, p) == label_record((EMAIL, "1", 2.0), None, p)["prediction_id"] == hash_value(EMAIL, KEY)
    assert label_record((EMAIL, "1", 2.0))["prediction_id"] == EMAIL  # no policy: as given
    # Without a key the id goes as it is: the collector, which holds the key, hashes it.
    assert wire_id(EMAIL, policy(hash_key=None)) == EMAIL
    with pytest.raises(ValueError, match="1..256"):
        wire_id("x" * 257, p)


def test_client_sends_hashed_ids_for_predictions_and_labels() -> None:
    transport = InMemoryTransport()
    client = Client(None, "tok", "fraud", "v1", transport=transport, flush_at_exit=False, debug=True,
                    pii={"hash_key": KEY.decode(), "detectors": ["email", "phone", "card"]})
    try:
        client.log_prediction(EMAIL, {"amount": 1.0}, "1")
        client.log_prediction(PHONE, {"amount": 2.0}, "0")
        client.log_prediction("req-3", {"amount": 3.0}, "0")
        client.log_label(EMAIL, "1")
        client.log_label(PHONE, "0")
        assert client.flush(timeout=5)
    finally:
        client.close(timeout=1)
    predicted = [r["prediction_id"] for r in transport.records("/v1/predictions")]
    labelled = [r["prediction_id"] for r in transport.records("/v1/labels")]
    assert predicted == [hash_value(EMAIL, KEY), hash_value(PHONE, KEY), "req-3"]
    assert labelled == predicted[:2]
    assert not any(EMAIL in r.body.decode() or PHONE in r.body.decode() for r in transport.requests)
