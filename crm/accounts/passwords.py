"""Password policy and argon2id hashing, always off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_STRENGTH = 3  # zxcvbn score 0..4; below 3 is guessable by a determined attacker

_hasher = PasswordHasher()  # argon2id with the library's recommended costs
_dummy_hash: str | None = None


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the cost parameters (tests use a cheaper argon2id)."""
    global _hasher, _dummy_hash
    _hasher, _dummy_hash = hasher, None


def _problem(password: str, user_inputs: list[str]) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    from zxcvbn import zxcvbn  # imported lazily: its word lists take a moment to load

    result = zxcvbn(password, user_inputs=user_inputs)
    if result["score"] < MIN_STRENGTH:
        message = "This password is too common or easy to guess."
        warning = result["feedback"].get("warning")
        if warning:
            message += f" ({warning.rstrip('.')}.)"
        return message + " Try a few unrelated words."
    return None


async def problem(password: str, *, user_inputs: list[str] | None = None) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) > MAX_LENGTH:  # never hand a huge string to the strength checker
        return f"Use at most {MAX_LENGTH} characters."
    return await asyncio.to_thread(_problem, password, list(user_inputs or []))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password. With no stored hash (unknown account) it still spends
    the same time hashing, so response time does not reveal which emails exist."""
    global _dummy_hash
    if stored_hash is None:
        if _dummy_hash is None:
            _dummy_hash = await hash_password("not a real password, only for timing")
        await asyncio.to_thread(_verify, _dummy_hash, password[:MAX_LENGTH])
        return False
    if len(password) > MAX_LENGTH:  # refused, but only after the same work, so timing tells nothing
        await verify_password(None, password)
        return False
    return await asyncio.to_thread(_verify, stored_hash, password)
