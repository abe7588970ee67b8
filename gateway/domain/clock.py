"""The wall clock in epoch milliseconds, read in one place.

The one module of the domain that reads the time (no other I/O): the store, the API and the
ingest edge stamp their records and hand their Lua scripts ``now`` in milliseconds through
:func:`now_ms`. Pure rules never call it; they take ``now_ms`` as an argument, so their tests
pass the time they mean.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch, as the records and the Lua scripts store them."""
    return int(time.time() * 1000)
