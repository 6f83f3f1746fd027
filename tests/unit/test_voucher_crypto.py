from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.vouchers.crypto import (
    ALPHABET,
    Keyring,
    VoucherError,
    _check_char,
    derive_private_key,
    format_short_code,
    new_short_code,
    normalise_short_code,
    sign,
    verify,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEYS = Keyring.build(derive_private_key("test"))
TOKEN = sign(KEYS, "R12345678", "ABCDEFGHJ" + "K", NOW + timedelta(days=14), "NYC-1")


def test_round_trip_and_expiry():
    claims = verify(KEYS, TOKEN, NOW)
    assert (claims.rma, claims.store, claims.kid) == ("R12345678", "NYC-1", KEYS.kid)
    with pytest.raises(VoucherError) as error:
        verify(KEYS, TOKEN, NOW + timedelta(days=15))
    assert error.value.code == "expired"


def test_rotation_old_vouchers_still_verify_new_ones_use_the_new_key():
    new_key = derive_private_key("next year")
    rotated = Keyring.build(new_key, [KEYS.signing.public_key()])
    assert verify(rotated, TOKEN, NOW).kid == KEYS.kid
    fresh = sign(rotated, "R2", "X", NOW + timedelta(days=1))
    assert verify(rotated, fresh, NOW).kid == rotated.kid != KEYS.kid
    with pytest.raises(VoucherError) as error:
        verify(KEYS, fresh, NOW)
    assert error.value.code == "unknown_key"


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_change_to_a_token_is_rejected(data):
    raw = bytearray(TOKEN.encode())
    position = data.draw(st.integers(0, len(raw) - 1))
    replacement = data.draw(st.sampled_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            b"0123456789-_."))
    if raw[position] == replacement:
        return
    raw[position] = replacement
    try:
        claims = verify(KEYS, raw.decode(), NOW)
    except VoucherError as error:
        assert error.code in ("malformed", "bad_signature", "unknown_key")
    else:
        # base64 has spare bits in its last character: a change there can decode to the very
        # same bytes, which is the same voucher, not a forged one.
        assert claims == verify(KEYS, TOKEN, NOW)


@settings(max_examples=200)
@given(st.data())
def test_short_codes_catch_any_single_typo_and_neighbour_swap(data):
    body = data.draw(st.text(alphabet=ALPHABET, min_size=9, max_size=9))
    code = body + _check_char(body)
    assert normalise_short_code(format_short_code(code).lower()) == code
    i = data.draw(st.integers(0, len(code) - 1))
    other = data.draw(st.sampled_from(ALPHABET).filter(lambda ch: ch != code[i]))
    typo = code[:i] + other + code[i + 1:]
    with pytest.raises(VoucherError):
        normalise_short_code(typo)
    j = data.draw(st.integers(0, len(code) - 2))
    if code[j] != code[j + 1]:
        swapped = code[:j] + code[j + 1] + code[j] + code[j + 2:]
        with pytest.raises(VoucherError):
            normalise_short_code(swapped)


def test_short_codes_avoid_look_alikes():
    assert not set("01OIL U") & set(ALPHABET)
    assert len(normalise_short_code(new_short_code())) == 10


def test_new_key_command_prints_a_usable_signing_key():
    from datetime import UTC, datetime, timedelta

    from click.testing import CliRunner

    from hub.cli import vouchers_new_key
    from hub.vouchers.crypto import Keyring, private_key_from_text, sign, verify

    result = CliRunner().invoke(vouchers_new_key)
    assert result.exit_code == 0
    keyring = Keyring.build(private_key_from_text(result.stdout.strip().splitlines()[-1]))
    expires = datetime.now(UTC) + timedelta(days=1)
    token = sign(keyring, "R1", "ABCDEFGHJK", expires)
    assert verify(keyring, token, datetime.now(UTC)).rma == "R1"
