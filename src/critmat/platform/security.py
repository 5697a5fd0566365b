"""Password hashing (argon2id), random tokens and their hashes.

Tokens (session cookies, CSRF tokens, API tokens) are 32 random bytes, URL-safe base64. Only
their sha256 is stored, so a leaked database does not leak a usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
API_TOKEN_PREFIX = "cmt_"
MIN_PASSWORD_LENGTH = 10

# A real hash to verify against when the account does not exist, so that a login for an
# unknown e-mail costs the same time as one with a wrong password.
_DUMMY_HASH = _HASHER.hash("critmat-timing-equaliser")


class _Counter:
    """A thread-safe count of events in this process."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self._value += 1

    @property
    def value(self) -> int:
        with self._lock:
            return self._value


_VERIFICATIONS = _Counter()


def verifications() -> int:
    """How many argon2 password verifications this process has run (for tests and metrics:
    the login throttle promises that no more than its limit run per account and address)."""
    return _VERIFICATIONS.value


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    _VERIFICATIONS.add()
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def generate_password() -> str:
    """A random password for a first administrator (printed once)."""
    return secrets.token_urlsafe(15)


def check_password_strength(password: str) -> None:
    from critmat.errors import CritmatError

    if len(password) < MIN_PASSWORD_LENGTH:
        raise CritmatError(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters",
            hint="use a passphrase",
        )
