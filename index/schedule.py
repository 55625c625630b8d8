"""Periodic work done once per period by whichever process gets to it first: several bot
replicas on one collection each schedule the feed refresh, and only one of them runs it.

A period's turn is claimed in one store transaction under the collection's write lock: the
time of the last claim is read from the store's named values and, when a period (less a
tenth, for clocks and schedules that drift) has passed, the new time is written. A process
that finds the lock held, or the turn already taken, skips. A turn is also refused while the
last one is still running (`end_turn` not yet called), so that work slower than its period
is not done twice at once; a mark left by a process that died mid-turn is ignored after
`STALE_SECONDS` (or ten periods, if longer).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from index.storage.interfaces import IndexerStore, StoreBusyError

STALE_SECONDS = 3600.0  # a turn running longer than this (or ten periods) is taken as dead


def claim_turn(store: IndexerStore, name: str, period_seconds: float,
               now: datetime | None = None) -> bool:
    """Returns: True when this process should do the periodic work `name` now (and the
    turn is recorded as taken and as running, until `end_turn`), False when another took
    it less than a period ago, is still running it, or holds the write lock."""
    now = now or datetime.now(UTC)
    key, running = f"last_turn:{name}", f"running_turn:{name}"
    stale = timedelta(seconds=max(STALE_SECONDS, 10 * period_seconds))
    try:
        with store.transaction():
            last = store.get_meta(key)
            if last and now - datetime.fromisoformat(last) < timedelta(
                    seconds=0.9 * period_seconds):
                return False
            started = store.get_meta(running)
            if started and now - datetime.fromisoformat(started) < stale:
                return False
            store.set_meta({key: now.isoformat(), running: now.isoformat()})
    except StoreBusyError:
        return False
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    return True


def end_turn(store: IndexerStore, name: str) -> None:
    """The turn of `name` this process claimed is over: the next may be claimed once its
    period has passed."""
    store.set_meta({f"running_turn:{name}": ""})
