"""Password hashing (argon2), JWT access tokens and opaque secret tokens."""

import asyncio
import functools
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.db.types import utcnow

_hasher = PasswordHasher()

JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
# Personal API tokens and refresh tokens are opaque; the prefix tells them apart from JWTs.
API_TOKEN_PREFIX = "tsk_"
REFRESH_TOKEN_PREFIX = "tsr_"


# Hashing and verifying take tens of milliseconds of CPU and 64 MiB each: they run in a
# worker thread (argon2 releases the GIL), so that the event loop keeps serving meanwhile.


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) spend the same time and fail."""
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        matched = _hasher.verify(password_hash or _unknown_user_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


@functools.cache
def _unknown_user_hash() -> str:
    """Verified against when the email is unknown, so that a login costs the same either
    way; made on first use rather than when the module is imported."""
    return _hasher.hash("unknown-user-placeholder")


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_generation: int


class InvalidToken(Exception):
    pass


def create_access_token(
    user_id: uuid.UUID, token_generation: int, *, secret_key: str, ttl_seconds: int
) -> str:
    now = utcnow()
    payload = {
        "sub": str(user_id),
        "gen": token_generation,
        "typ": ACCESS_TOKEN_TYPE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, *, secret_key: str) -> AccessClaims:
    claims, expires_at = _verified(token, secret_key)
    # A token is verified once per process; its expiry is checked at every use.
    if expires_at <= time.time():
        raise InvalidToken("Signature has expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret_key: str) -> tuple[AccessClaims, float]:
    """The claims of a token whose signature and shape hold, and when it expires. A refused
    token raises, and refusals are not remembered."""
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp", "iat", "gen", "typ"]},
        )
        if payload["typ"] != ACCESS_TOKEN_TYPE:
            raise InvalidToken("not an access token")
        claims = AccessClaims(
            user_id=uuid.UUID(payload["sub"]), token_generation=int(payload["gen"])
        )
        return claims, float(payload["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def new_secret_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for lookup, unlike for passwords."""
    return hashlib.sha256(token.encode()).hexdigest()
