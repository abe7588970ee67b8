"""Provider secrets sealed at rest: AES-256-GCM under a key derived from the gateway's secret key.

What an org gives us to act for it — a mailbox's IMAP password, its own SMTP server's password, its
Twilio auth token, its Standard Webhooks signing secret — is stored in Redis sealed, never in plain
text: a Redis dump, a replica or ``MONITOR`` shows only ``sg1:`` + urlsafe base64 of
``nonce (12 bytes) || ciphertext+tag``.

- The key: HKDF-SHA256 of ``[gateway] secret_key`` (``SIGNALGATE_GATEWAY_SECRET_KEY``) with
  :data:`HKDF_INFO`, derived once per process (:class:`Sealer`).
- A random 96-bit nonce per sealed value.
- Associated data: the org id and the field's name (e.g. ``twilio.auth_token``, or
  ``mailbox.<id>.password``): a sealed value copied to another org or field does not open.

A value without the ``sg1:`` prefix is one stored before sealing existed: :func:`open_secret`
returns it as is (it is sealed on its next write). A wrong key or a tampered value raises
:class:`SealError`, whose message names the org and field, never the secret.

:class:`Sealer` caches what it opened, keyed by the sealed value (bounded): the Twilio auth token is
read on every Twilio webhook, so the hot path costs a dict lookup, no HKDF and no AES.

Key rotation (``[gateway] previous_secret_keys``): :class:`Sealer` seals under the current key only
and opens under the current key, else under each previous key in order; :meth:`Sealer.reseal` gives
a value sealed under a previous key (or a legacy plain one) sealed anew under the current key —
what ``signalgate reseal`` writes back, so the previous keys can then be dropped.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sg1:"
HKDF_INFO = b"signalgate sealed secrets v1"
NONCE_BYTES = 12
KEY_BYTES = 32
CACHE_MAX = 10_000  # opened values kept per process (cleared whole when full)

# The fields that are sealed, as named in the associated data.
TWILIO_AUTH_TOKEN = "twilio.auth_token"  # noqa: S105 - a field name, not a secret
SMTP_PASSWORD = "smtp.password"  # noqa: S105 - a field name, not a secret
WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 - a field name, not a secret


def mailbox_password(mailbox: str) -> str:
    """The field name of an API mailbox's password (one per mailbox: a copy to another does not open)."""
    return f"mailbox.{mailbox}.password"


class SealError(Exception):
    """A sealed value does not open: the secret key changed, or the value was altered or moved."""

    def __init__(self, org: str, field: str, why: str) -> None:
        super().__init__(f"org {org!r}: the stored {field} cannot be opened ({why}); enter it again")
        self.org = org
        self.field = field
        self.why = why


def derive_key(secret_key: bytes) -> bytes:
    """The AES-256 key of sealed secrets: HKDF-SHA256 of the gateway's secret key."""
    if not secret_key:
        raise ValueError("the gateway's secret key is empty")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=HKDF_INFO).derive(secret_key)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def _aad(org: str, field: str) -> bytes:
    # NUL-separated: neither an org id nor a field name contains one, so no two pairs collide.
    return b"signalgate\x00" + org.encode() + b"\x00" + field.encode()


def seal_secret(key: bytes, org: str, field: str, plain: str) -> str:
    """``plain`` sealed for ``org``'s ``field``: ``sg1:`` + urlsafe base64 (nonce || ciphertext)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plain.encode(), _aad(org, field))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_secret(key: bytes, org: str, field: str, stored: str) -> str:
    """The plain secret of a stored value (a value without the prefix is returned as is)."""
    if not is_sealed(stored):
        return stored
    return _open(AESGCM(key), org, field, stored)


def _open(aead: AESGCM, org: str, field: str, stored: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise SealError(org, field, "not valid base64") from None
    if len(raw) < NONCE_BYTES + 16:
        raise SealError(org, field, "too short")
    try:
        plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(org, field))
    except InvalidTag:
        raise SealError(org, field, "wrong secret key, or the value was altered or belongs elsewhere") from None
    try:
        return plain.decode()
    except UnicodeDecodeError:
        raise SealError(org, field, "not UTF-8") from None


class Sealer:
    """Seals with one process's key and opens with it or its previous keys (each derived once);
    opened values are cached."""

    def __init__(self, secret_key: bytes, cache_max: int = CACHE_MAX, previous: tuple[bytes, ...] = ()) -> None:
        self._key = derive_key(secret_key)
        self._aead = AESGCM(self._key)
        self._previous = tuple(AESGCM(derive_key(key)) for key in previous)
        self._cache: dict[tuple[str, str, str], str | SealError] = {}
        self._cache_max = cache_max

    def _open_any(self, org: str, field: str, stored: str) -> str:
        """Under the current key, else the previous ones in order; the current key's error if none."""
        try:
            return _open(self._aead, org, field, stored)
        except SealError as exc:
            refused = exc
        for aead in self._previous:
            try:
                return _open(aead, org, field, stored)
            except SealError:
                continue
        raise refused

    def reseal(self, org: str, field: str, stored: str) -> str | None:
        """``stored`` sealed under the current key when it is not yet (sealed under a previous key,
        or a legacy plain value); None when it already is. :class:`SealError` when it opens under
        no key. Never cached: it is for ``signalgate reseal``, not a hot path."""
        if not is_sealed(stored):
            return self.seal(org, field, stored)
        try:
            _open(self._aead, org, field, stored)
            return None
        except SealError:
            return self.seal(org, field, self._open_any(org, field, stored))

    def seal(self, org: str, field: str, plain: str) -> str:
        return seal_secret(self._key, org, field, plain)

    def open(self, org: str, field: str, stored: str) -> str:
        """The plain secret (a legacy plain value as is); :class:`SealError` when it does not open.
        Both outcomes are cached by ``(org, field, stored)``: a new sealed value is a new entry."""
        if not is_sealed(stored):
            return stored
        entry = (org, field, stored)
        hit = self._cache.get(entry)
        if hit is None:
            try:
                hit = self._open_any(org, field, stored)
            except SealError as exc:
                hit = exc
            if len(self._cache) >= self._cache_max:
                self._cache.clear()
            self._cache[entry] = hit
        if isinstance(hit, SealError):
            raise SealError(org, field, hit.why)  # a new one each time: no shared traceback
        return hit
