"""What the store's callers may catch: Redis failures, named without importing the client library.

Every layer above the store handles an outage the same way — back off and retry, or answer 503 —
so it catches :data:`UNAVAILABLE` (Redis cannot be reached right now) or :class:`StoreError`
(any failure of a Redis command) from here.
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as _ConnectionError
from redis.exceptions import RedisError as StoreError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as _TimeoutError

# Redis did not answer (down, restarting, network): retry later.
UNAVAILABLE: tuple[type[Exception], ...] = (_ConnectionError, _TimeoutError, OSError)

__all__ = ["UNAVAILABLE", "ResponseError", "StoreError"]
