"""Framework-level helpers that several apps share and that are not configuration.

As healthchecks keeps `hc/lib/`: e-mail building (`emails`), the development mailbox
backend (`mailbox`), the Redis cache client (`redis_cache`) and rate limiting
(`ratelimit`), the JSON encoder that keeps text readable (`jsonfield`). Nothing here imports an app.
"""
