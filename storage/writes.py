"""Write a session's changed rows with one Core UPDATE each instead of an ORM flush.

A single-row ORM flush costs about twice the UPDATE it sends (the unit of work, its dependency
sort, the per-attribute bookkeeping), and every citizen message ended with one for its report
and the incident it joined. New and deleted objects stay with the session's next flush; the
rows written here are marked as stored, so that flush has nothing more to send for them.
Measured in docs/performance.md ("Core writes at the end of a citizen message").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.orm import InstanceState, make_transient, make_transient_to_detached
from sqlalchemy.sql.dml import Update
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["write_changed"]

_KEY = "_key_"  # prefix of the primary key's bind names; no column starts with it


async def write_changed(*, session: AsyncSession) -> int:
    """UPDATE the changed columns of every changed persistent object; return the rows written."""
    written = 0
    with session.no_autoflush:
        for instance in list(session.dirty):
            state: InstanceState[Any] = inspect(instance)
            changes = _changed_columns(state)
            mapper = state.mapper
            if not changes or any(column.key in changes for column in mapper.primary_key):
                continue  # nothing to write, or a new key: the ORM's flush finds the old row
            key = mapper.primary_key_from_instance(instance)
            names = (f"{_KEY}{column.key}" for column in mapper.primary_key)
            statement = _update_of(mapper.local_table, frozenset(changes))
            await session.exec(statement, params={**changes, **dict(zip(names, key, strict=True))})
            _mark_stored(session, instance)
            written += 1
    return written


@cache
def _update_of(table: Table, columns: frozenset[str]) -> Update:
    """``UPDATE table SET <columns> WHERE <primary key>``, built once per set of columns.

    Building a statement costs about as much CPU as running it; each path through intake
    changes the same few sets of columns.
    """
    return (
        update(table)
        .where(*(column == bindparam(f"{_KEY}{column.key}") for column in table.primary_key))
        .values({name: bindparam(name) for name in sorted(columns)})
    )


def _mark_stored(session: AsyncSession, instance: object) -> None:
    """Make ``instance`` a clean row of ``session`` again, as if just loaded.

    This is SQLAlchemy's public route for a row written by hand: out of the session, transient,
    then detached with its values taken as stored (``make_transient_to_detached``), and back.
    """
    session.expunge(instance)
    make_transient(instance)
    make_transient_to_detached(instance)
    session.add(instance)


def _changed_columns(state: InstanceState[Any]) -> dict[str, Any]:
    """The columns of ``state`` whose value changed since it was loaded or written, by name."""
    # committed_state holds the attributes set since then (a few of a row's columns);
    # history tells whether the value set differs from the stored one.
    columns = state.mapper.column_attrs
    return {
        columns[key].columns[0].key: state.dict[key]
        for key in state.committed_state
        if key in columns and state.attrs[key].history.has_changes()
    }
