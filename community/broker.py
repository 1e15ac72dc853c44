"""Sending Celery tasks from a request without ever failing or holding it.

Call ``publish`` from ``transaction.on_commit``: the change is already committed, so a broker
outage must not turn the user's success into an error. Work that has to survive the outage
keeps its own durable record (the search outbox, a periodic sweep) and is sent again later.
"""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

# After a failed publish, this process skips the broker for a while instead of letting every
# request wait out the socket timeout again (2 s on a hung broker).
RETRY_AFTER_S = 30.0
_down_until = 0.0


def broker_marked_down() -> bool:
    return time.monotonic() < _down_until


def reset() -> None:
    """Forget a past failure (tests; or after an operator fixed the broker)."""
    global _down_until
    _down_until = 0.0


def publish(task: Any, *args: Any, **kwargs: Any) -> bool:
    """``task.delay(*args, **kwargs)``; False instead of an exception when the broker is down.

    Side effects: logs a warning and marks the broker down for ``RETRY_AFTER_S`` seconds.
    """
    global _down_until
    if broker_marked_down():
        logger.info("Broker marked down; not sending %s.", getattr(task, "name", task))
        return False
    try:
        task.delay(*args, **kwargs)
    except Exception:  # any transport error: the commit stands, the caller's record remains
        _down_until = time.monotonic() + RETRY_AFTER_S
        logger.warning(
            "Could not reach the broker to send %s.", getattr(task, "name", task), exc_info=True
        )
        return False
    return True
