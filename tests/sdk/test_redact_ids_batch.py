"""``redact_prediction_ids`` (a batch at once) against its definition, ``redact_prediction_id``
per id, over thousands of generated ids: every policy action, with and without a key, every
subset of detectors, and ids built to sit on the detectors' edges and on the batch's joins."""

from __future__ import annotations

import itertools
import random
import string
import uuid
from collections.abc import Callable

import pytest

from modelwatch.redact import DETECTORS, ID_ACTIONS, RedactionPolicy, hash_value
from modelwatch.redact_ids import redact_prediction_id, redact_prediction_ids

KEY = b"batch-key"
SEPARATOR = "\x00"  # the one the batch joins ids with: ids holding it must still come out right
MIXED = string.ascii_letters + string.digits * 3 + "-_.@+ ()/,:" + SEPARATOR + "é٣ß"
DIGITISH = string.digits * 6 + " -.+()/" + SEPARATOR


def luhn_completed(rng: random.Random, length: int, valid: bool) -> str:
    """``length`` digits starting 2-6 (often 1-9) whose last digit makes the Luhn check pass or fail."""
    first = rng.choice("23456" if rng.random() < 0.8 else "123456789")
    body = first + "".join(rng.choice(string.digits) for _ in range(length - 2))
    total = 0
    for position, char in enumerate(reversed(body)):  # positions of the body once the check digit follows
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    check = (10 - total % 10) % 10
    return body + str(check if valid else (check + rng.randint(1, 9)) % 10)


def grouped(rng: random.Random, digits: str) -> str:
    """``digits`` with single spaces or dashes between random groups (or none)."""
    out: list[str] = []
    for char in digits:
        if out and rng.random() < 0.25:
            out.append(rng.choice(" -"))
        out.append(char)
    return "".join(out)


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def phone(rng: random.Random) -> str:
    formats: list[Callable[[], str]] = [
        lambda: f"+{rng.randint(1, 99)} {digits(rng, 2)} {digits(rng, rng.randint(5, 9))}",
        lambda: f"+1 ({digits(rng, 3)}) {digits(rng, 3)}-{digits(rng, 4)}",
        lambda: "+" + digits(rng, rng.randint(6, 16)),
        lambda: f"({digits(rng, 3)}) {digits(rng, 3)}-{digits(rng, 4)}",
        lambda: f"{digits(rng, 3)}{rng.choice('-. /')}{digits(rng, 3)}{rng.choice('-. /')}{digits(rng, 4)}",
        lambda: f"0{digits(rng, rng.randint(1, 4))}{rng.choice(' -/')}{digits(rng, rng.randint(3, 9))}",
        lambda: f"0{digits(rng, 3)}-{digits(rng, 4)}-{digits(rng, 4)}",
        lambda: f"{digits(rng, 2)}:{digits(rng, 2)}",  # a time, never a phone
        lambda: f"{rng.randint(1, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
    ]
    return rng.choice(formats)()


def email(rng: random.Random) -> str:
    local = "".join(rng.choice(string.ascii_lowercase + string.digits + "._+-") for _ in range(rng.randint(1, 12)))
    domain = "".join(rng.choice(string.ascii_lowercase + "-") for _ in range(rng.randint(1, 10)))
    return f"{local}@{domain}.{rng.choice(['com', 'de', 'c', 'co.uk', '1'])}"


def card(rng: random.Random) -> str:
    return grouped(rng, luhn_completed(rng, rng.randint(12, 20), valid=rng.random() < 0.6))


def in_context(rng: random.Random, core: str) -> str:
    """``core`` alone, between words, or between random neighbours (which may glue it to a word)."""
    shape = rng.random()
    if shape < 0.4:
        return core
    if shape < 0.7:
        return rng.choice(["id ", "order:", "(", "x/", "", "/"]) + core + rng.choice([" ok", ")", "", ":1", "/x"])
    before = "".join(rng.choice(MIXED) for _ in range(rng.choice([0, 1, 2, 6])))
    after = "".join(rng.choice(MIXED) for _ in range(rng.choice([0, 1, 2, 6])))
    return before + core + after


def generated_id(rng: random.Random, shape: int | None = None) -> str:
    """An id of a random shape, or of shape number ``shape`` (0 <= shape < SHAPES)."""
    makers: list[Callable[[], str]] = [
        lambda: "".join(rng.choice(MIXED) for _ in range(rng.randint(1, 24))),
        lambda: "".join(rng.choice(DIGITISH) for _ in range(rng.randint(1, 30))),
        lambda: in_context(rng, email(rng)),
        lambda: in_context(rng, phone(rng)),
        lambda: in_context(rng, phone(rng)),
        lambda: in_context(rng, card(rng)),
        lambda: in_context(rng, card(rng)),
        lambda: f"p{rng.randint(0, 3)}-{rng.randint(0, 10**6)}",
        lambda: f"order_{rng.randint(0, 999)}-{rng.randint(0, 99)}",
        lambda: f"order {digits(rng, rng.randint(1, 16))}",
        lambda: str(uuid.UUID(int=rng.getrandbits(128))),
        lambda: uuid.UUID(int=rng.getrandbits(128)).hex,
        lambda: str(1_700_000_000_000 + rng.randint(0, 10**9)),
        lambda: digits(rng, rng.randint(1, 20)),
        lambda: hash_value(str(rng.random()), KEY),
        lambda: rng.choice(["@", "+", "(", " ", "-", "0", "5", SEPARATOR, "a"]),
        lambda: "".join(rng.choice(MIXED) for _ in range(256)),
        lambda: in_context(rng, card(rng)) + SEPARATOR + in_context(rng, phone(rng)),
        # One odd character each before the number: a batch of them holds no other.
        lambda: f"tel {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 4)}",
        lambda: f"ref/{luhn_completed(rng, 16, valid=rng.random() < 0.5)}",
        lambda: f"a({luhn_completed(rng, 15, valid=rng.random() < 0.5)}",
    ]
    return makers[rng.randrange(len(makers)) if shape is None else shape]()


SHAPES = 21


def generated_batch(rng: random.Random) -> list[str]:
    """Ids side by side, sometimes one PII string cut in two neighbouring ids (no id then holds it)."""
    ids: list[str] = []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.1:
            whole = rng.choice([email, phone, card])(rng)
            cut = rng.randint(1, len(whole) - 1)
            ids += [whole[:cut], whole[cut:]]
        else:
            ids.append(generated_id(rng))
    return [i for i in ids if 1 <= len(i) <= 256]


# Mixed batches, and batches of one shape each (a batch of plain ids takes other paths than one
# holding a single odd character).
_ONE_SHAPE = random.Random(7)
BATCHES = [generated_batch(random.Random(seed)) for seed in range(150)] + [
    [generated_id(_ONE_SHAPE, shape) for _ in range(20)] for shape in range(SHAPES) for _ in range(3)
]

POLICIES = [
    pytest.param(RedactionPolicy(detectors=detectors, hash_key=key, prediction_id=action),
                 id=f"{action}-{'key' if key else 'no-key'}-{'+'.join(detectors) or 'no-detectors'}")
    for action in ID_ACTIONS
    for key in (KEY, None)
    for n in range(len(DETECTORS) + 1)
    for detectors in itertools.combinations(DETECTORS, n)
]


def per_id(ids: list[str], policy: RedactionPolicy) -> tuple[list[str], list[int]]:
    stored: list[str] = []
    needs_key: list[int] = []
    for k, prediction_id in enumerate(ids):
        redacted = redact_prediction_id(prediction_id, policy)
        if redacted is None:
            needs_key.append(k)
        stored.append(prediction_id if redacted is None else redacted)
    return stored, needs_key


def test_the_generated_ids_reach_every_outcome() -> None:
    # Without this the comparison below could pass on ids that never hold PII.
    detect = RedactionPolicy(hash_key=None)
    ids = [i for batch in BATCHES for i in batch]
    flagged = sum(redact_prediction_id(i, detect) is None for i in ids)
    assert len(ids) > 3000 and 0.1 * len(ids) < flagged < 0.6 * len(ids)
    for kind in DETECTORS:
        only = RedactionPolicy(detectors=(kind,), hash_key=None)
        assert sum(redact_prediction_id(i, only) is None for i in ids) > 100, kind
    assert sum(SEPARATOR in i for i in ids) > 50


@pytest.mark.parametrize("policy", POLICIES)
def test_batch_gives_what_each_id_alone_gives(policy: RedactionPolicy) -> None:
    for ids in BATCHES:
        sent = list(ids)
        stored, needs_key = redact_prediction_ids(ids, policy)
        assert (list(stored), needs_key) == per_id(ids, policy), ids
        assert ids == sent  # never modified
        assert (stored is ids) == (stored == ids)


def test_one_batch_of_every_shape_at_once() -> None:
    # One long batch: offsets far from the start, many matches mapped back to their ids.
    ids = [i for batch in BATCHES for i in batch]
    for policy in (RedactionPolicy(hash_key=KEY), RedactionPolicy(hash_key=None)):
        stored, needs_key = redact_prediction_ids(ids, policy)
        assert (stored, needs_key) == per_id(ids, policy)


def test_ids_without_pii_come_back_as_the_same_list() -> None:
    ids = [f"p{i % 4}-{i}" for i in range(1000)] + [str(uuid.UUID(int=i)) for i in range(100)]
    assert redact_prediction_ids(ids, RedactionPolicy(hash_key=KEY)) == (ids, [])
    assert redact_prediction_ids(ids, RedactionPolicy(hash_key=KEY))[0] is ids
    assert redact_prediction_ids([], RedactionPolicy(hash_key=KEY)) == ([], [])


def test_a_pii_string_cut_across_two_ids_flags_neither_and_neighbours_stay_apart() -> None:
    detect = RedactionPolicy(hash_key=KEY)
    # Each half alone holds no PII; joined they would be an e-mail, a phone and a card.
    halves = ["jane.doe@", "example.com", "+49 30", "1234567", "41111111", "11111111"]
    assert redact_prediction_ids(halves, detect) == (halves, [])
    # A card right after an id ending in a digit or '+' is still a card of its own.
    ids = ["a1", "4111111111111111", "b+", "555-123-4567", "x-", "+15551234567"]
    stored, needs_key = redact_prediction_ids(ids, detect)
    assert stored == ["a1", hash_value(ids[1], KEY), "b+", hash_value(ids[3], KEY), "x-", hash_value(ids[5], KEY)]
    assert needs_key == []
    assert redact_prediction_ids(ids, RedactionPolicy(hash_key=None)) == (ids, [1, 3, 5])
