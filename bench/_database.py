"""The benchmarks' one shared helper: create their own PostgreSQL database if missing.

Each benchmark is a standalone script run as `python bench/<name>.py`, which puts this
folder first on sys.path, so they import it as `from _database import create_database`.
"""


def create_database(url: str) -> None:
    """CREATE DATABASE for the database `url` names, unless it exists (asked of the
    server's "postgres" database)."""
    import psycopg
    from dj_database_url import parse

    config = parse(url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    exists = admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
    ).fetchone()
    if not exists:
        print(f"creating database {config['NAME']}", flush=True)
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()
