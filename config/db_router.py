"""The read replica (DATABASE_REPLICA_URL): who reads from it.

Only reads that may lag a few seconds behind the primary go there: the measure rollup rows
(metrics.Rollup, what the dashboards and their CSVs show; recomputed in the background and
already minutes old by design) and whatever a CSV export reads inside `replica_reads()`.
Every other read and every write stays on "default", so a page never misses what its own
request just wrote. Without a replica configured the router says nothing and Django uses
"default" for everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
# (app label, model name) of the models whose every read may come from the replica.
REPLICA_MODELS = frozenset({("metrics", "rollup")})

_replica_scope: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within the block every read goes to the replica (when there is one): for a CSV export,
    a large read that may lag. Writes still go to default."""
    token = _replica_scope.set(True)
    try:
        yield
    finally:
        _replica_scope.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """A view decorator: the view's reads go to the replica (`replica_reads`)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if not replica_configured():
            return None
        meta = model._meta
        if _replica_scope.get() or (meta.app_label, meta.model_name) in REPLICA_MODELS:
            return REPLICA
        # Explicitly default: Django would otherwise follow a related object read from the
        # replica (rollup.partnership) to the replica too.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str | None:
        # Never the replica, even for an object read from it (Django's fallback would save it
        # back where it came from).
        return DEFAULT_DB_ALIAS if replica_configured() else None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The same rows on both: objects from either may be related.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        # The replica copies the primary (streaming replication); nothing migrates it.
        return False if db == REPLICA else None
