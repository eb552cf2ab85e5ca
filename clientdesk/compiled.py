"""`values()` queries built and compiled once, then run again for another record.

A page that sends several small queries of a fixed shape on every draw (the client card's timeline: one per kind of
entry, each with its joins for the names and the car it prints) spent more time in the ORM building and compiling
them than PostgreSQL took to answer. `CompiledValues` keeps a query's SQL as the ORM compiled it for a stand-in
record id (`STAND_IN`), and runs it for a real id by putting the id where the stand-in was: the SQL, its joins, the
visibility rules and the column converters are the ORM's own, only built once.

A compiled query is kept per process, under a key that must name everything its SQL depends on besides the id:
what a page's source is, and who asks (`clientdesk.querysets.visibility_key`). PostgreSQL only (the embedded SQLite
builds each query, as before): the tests hold both to the same rows.
"""

from collections.abc import Callable, Hashable

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

# An id no table holds, put where the real one goes; found again among the compiled query's parameters.
STAND_IN = -7_304_511_962

_compiled: dict[Hashable, object] = {}
KEPT_AT_MOST = 5_000


class CompiledValues:
    def __init__(self, queryset: QuerySet):
        query = queryset.query
        compiler = query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        self.db = queryset.db
        self.sql = sql
        self.params = list(params)
        self.at = [i for i, value in enumerate(self.params) if type(value) is int and value == STAND_IN]
        if not self.at:
            raise ValueError("the stand-in id is not among the query's parameters")
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())
        if len(self.names) != compiler.col_count:
            raise ValueError("the query's columns are not its values() names")

    def rows(self, pk: int) -> list[dict]:
        params = list(self.params)
        for i in self.at:
            params[i] = pk
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            found = cursor.fetchall()
        if self.converters:
            found = [list(row) for row in found]
            for row in found:
                for position, (converters, expression) in self.converters:
                    value = row[position]
                    for convert in converters:
                        value = convert(value, expression, connection)
                    row[position] = value
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in found]


# What `_compiled` holds for a query that is not compiled once here (SQLite, the stand-in not among its parameters):
# the caller builds it every time, without trying again.
BUILT_EACH_TIME = "built each time"


def compiled_rows(key: Hashable, build: Callable[[int], QuerySet], pk: int) -> list[dict] | None:
    """The rows of `build(pk)` (a sliced `values()` queryset), from its SQL compiled once under `key` on PostgreSQL;
    None where it must be built each time (SQLite, a query the stand-in is not found in): the caller builds it."""
    compiled = kept(key, lambda: _compile(build(STAND_IN)))
    if compiled is BUILT_EACH_TIME:
        return None
    return [] if compiled is None else compiled.rows(pk)


def kept(key: Hashable, make: Callable[[], object]):
    """What is kept under `key` in this process: `make()`'s result, made the first time the key is asked for (a query
    compiled once, None, or BUILT_EACH_TIME)."""
    try:
        return _compiled[key]
    except KeyError:
        made = make()
        if len(_compiled) >= KEPT_AT_MOST:
            _compiled.clear()
        _compiled[key] = made
        return made


def known(key: Hashable):
    """What is kept under `key` in this process, or None."""
    return _compiled.get(key)


def _compile(queryset: QuerySet) -> "CompiledValues | str | None":
    """The query compiled once; None when it can hold no row (a user who may see nothing); BUILT_EACH_TIME."""
    if connections[queryset.db].vendor != "postgresql":
        return BUILT_EACH_TIME
    try:
        return CompiledValues(queryset)
    except EmptyResultSet:
        return None
    except ValueError:
        return BUILT_EACH_TIME
