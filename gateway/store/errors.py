"""What the store's callers may catch: Redis failures, named without importing the client library.

Every layer above the store handles an outage the same way — back off and retry, or answer 503 —
so it catches :data:`UNAVAILABLE` (Redis cannot be reached right now) or :class:`StoreError`
(any failure of a Redis command) from here, and asks :func:`is_transient` whether an error is
worth retrying at all.
"""

from __future__ import annotations

from redis.exceptions import ClusterError as _ClusterError
from redis.exceptions import ConnectionError as _ConnectionError
from redis.exceptions import OutOfMemoryError as _OutOfMemoryError
from redis.exceptions import ReadOnlyError as _ReadOnlyError
from redis.exceptions import RedisError as StoreError
from redis.exceptions import ResponseError
from redis.exceptions import SlotNotCoveredError as _SlotNotCoveredError
from redis.exceptions import TimeoutError as _TimeoutError
from redis.exceptions import TryAgainError as _TryAgainError

from gateway.domain.supervision import STREAM_GONE_REPLIES, TRANSIENT_REPLIES, reply_code

# Redis did not answer (down, restarting, network): retry later.
UNAVAILABLE: tuple[type[Exception], ...] = (_ConnectionError, _TimeoutError, OSError)
# redis-py strips the code from these replies (READONLY, OOM) and raises its own class instead;
# LOADING becomes BusyLoadingError, a ConnectionError, so UNAVAILABLE covers it.
# A Redis Cluster failing over or resharding: redis-py raises ClusterDownError (CLUSTERDOWN,
# MASTERDOWN), TryAgainError, ClusterError ("TTL exhausted": redirections did not settle) and
# SlotNotCoveredError (its slot map has a hole) without the reply code. Not RedisClusterException
# itself: that is also what the client raises for a command whose keys span slots (a bug).
CLUSTER_UNAVAILABLE: tuple[type[Exception], ...] = (_ClusterError, _TryAgainError, _SlotNotCoveredError)
_TRANSIENT_CLASSES: tuple[type[Exception], ...] = (_ReadOnlyError, _OutOfMemoryError, *CLUSTER_UNAVAILABLE)


def is_transient(exc: BaseException) -> bool:
    """True when the same command may succeed later: Redis down or busy, or a stream that vanished."""
    if isinstance(exc, UNAVAILABLE + _TRANSIENT_CLASSES):
        return True
    return isinstance(exc, ResponseError) and reply_code(str(exc)) in TRANSIENT_REPLIES


def stream_gone(exc: BaseException) -> bool:
    """True when a stream (and so its consumer group) was deleted under a reader (NOGROUP, UNBLOCKED)."""
    return isinstance(exc, ResponseError) and reply_code(str(exc)) in STREAM_GONE_REPLIES


__all__ = ["CLUSTER_UNAVAILABLE", "UNAVAILABLE", "ResponseError", "StoreError", "is_transient", "stream_gone"]
