"""Password policy and hashing."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import PasswordHasher

from crm.accounts import passwords


@pytest.mark.parametrize(
    "password, expected",
    [
        ("short-pw-1", "at least 12"),
        ("x" * 129, "at most 128"),
        ("password1234", "too common"),
        ("qwertyuiop123", "too common"),
        ("aaaaaaaaaaaa", "too common"),
    ],
)
async def test_it_refuses_short_long_and_common_passwords(password, expected):
    assert expected in (await passwords.problem(password) or "")


async def test_it_refuses_a_password_made_of_the_users_own_email():
    assert "too common" in (
        await passwords.problem("alice.smith2@example.com", user_inputs=["alice.smith2@example.com"]) or ""
    )


@pytest.mark.parametrize("password", ["quiet-harbour-lantern-1987", "x7#Kp2!vQ9zL", "ä" * 2 + "tropical-Fern-88"])
async def test_it_accepts_long_uncommon_passwords(password):
    assert await passwords.problem(password) is None


async def test_it_hashes_with_argon2id_and_verifies():
    stored = await passwords.hash_password("quiet-harbour-lantern-1987")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password(stored, "quiet-harbour-lantern-1987")
    assert not await passwords.verify_password(stored, "quiet-harbour-lantern-1988")
    assert not await passwords.verify_password("not-a-hash", "quiet-harbour-lantern-1987")
    assert not await passwords.verify_password(None, "quiet-harbour-lantern-1987")


async def test_it_hashes_off_the_event_loop():
    """With production costs, the loop keeps turning while a hash is computed."""
    passwords.use_hasher(PasswordHasher())  # the real costs
    ticks = 0
    done = False

    async def ticker():
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0)
        start = ticks
        stored = await passwords.hash_password("quiet-harbour-lantern-1987")
        assert await passwords.verify_password(stored, "quiet-harbour-lantern-1987")
        # A blocking hash would let the ticker run at most once or twice.
        assert ticks - start > 50
    finally:
        done = True
        await task
        passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
