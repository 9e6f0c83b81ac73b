"""Counters in database rows: one statement that adds to a row, creating it if missing.

Dashboards read small per-day rows instead of counting millions of events per request;
the services add to those rows as events happen. `INSERT ... ON CONFLICT DO UPDATE` is
atomic on PostgreSQL and SQLite (3.24+), so parallel workers never lose an increment.
"""

from django.db import connection


def counter_add(model, *, keys: dict, **increments: int) -> None:
    """Add `increments` to the row of `model` identified by `keys` (its unique columns).

    `keys` must name exactly the fields of a unique constraint of `model`; a foreign key
    is given by its attname (``paper_id``).
    """
    increments = {name: value for name, value in increments.items() if value}
    if not increments:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = {name: meta.get_field(name).column for name in [*keys, *increments]}
    names = [*keys, *increments]
    insert_columns = ", ".join(quote(columns[n]) for n in names)
    placeholders = ", ".join(["%s"] * len(names))
    table = quote(meta.db_table)
    conflict = ", ".join(quote(columns[n]) for n in keys)
    updates = ", ".join(
        f"{quote(columns[n])} = {table}.{quote(columns[n])} + excluded.{quote(columns[n])}"
        for n in increments
    )
    values = [meta.get_field(n).get_db_prep_save(keys[n], connection) for n in keys]
    values += list(increments.values())
    sql = (
        f"INSERT INTO {table} ({insert_columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
