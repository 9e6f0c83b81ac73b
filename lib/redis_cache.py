"""Django's Redis cache backend, minus a per-call cost, and an outage that is not ours.

Reuse: Django's RedisCacheClient builds a new redis.Redis object for every cache
operation; with redis-py 5+ that re-creates its table of response callbacks each time,
about 0.2 ms of CPU, which was a third of the time of a page served from the cache. This
client keeps one redis.Redis per connection pool (redis.Redis is thread-safe; connections
still come from the pool).

Outages: the cache holds nothing the site cannot rebuild, so an unreachable Redis must not
turn every page into a 500. While Redis cannot be reached, each process falls back to a
small cache in its own memory: pages still render (and are even cached per process),
allauth's sign-in limits keep counting, per process. After a failure the client stops
trying Redis for OUTAGE_RETRY_SECONDS, so a page with a dozen cache calls pays one
connection attempt, not twelve. The exception is `incr()`, the shared counter behind
lib.ratelimit: it raises CacheUnavailable, and lib.ratelimit fails closed, since those
limits guard e-mail that would go through the broker, the same Redis. /healthz asks
Redis directly and reports the outage.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 5
_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)


class CacheUnavailable(ValueError):
    """The cache server cannot be reached, so a counter cannot be read or moved.

    A ValueError, as Django raises for incr() of a missing key, so callers that already
    start a missing counter afresh (papers.cache) keep working during an outage."""


def _resilient(name):
    """The client method `name`, or the same method of the in-memory fallback while
    Redis is out of reach."""
    method = getattr(RedisCacheClient, name)

    def wrapper(self, *args, **kwargs):
        if not self.in_outage():
            try:
                return method(self, *args, **kwargs)
            except _OUTAGE_ERRORS as exc:
                self.record_outage(exc)
        return getattr(self.fallback, name)(*args, **kwargs)

    wrapper.__name__ = name
    return wrapper


class _ResilientClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._outage_until = 0.0
        self.fallback = LocMemCache("paperboy-redis-outage", {"OPTIONS": {"MAX_ENTRIES": 1000}})

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def in_outage(self) -> bool:
        return time.monotonic() < self._outage_until

    def record_outage(self, exc: Exception) -> None:
        if not self.in_outage():
            logger.warning(
                "Redis cache unreachable (%s); using process memory for %ss",
                exc,
                OUTAGE_RETRY_SECONDS,
            )
        self._outage_until = time.monotonic() + OUTAGE_RETRY_SECONDS

    add = _resilient("add")
    get = _resilient("get")
    set = _resilient("set")
    touch = _resilient("touch")
    delete = _resilient("delete")
    get_many = _resilient("get_many")
    has_key = _resilient("has_key")
    set_many = _resilient("set_many")
    delete_many = _resilient("delete_many")
    clear = _resilient("clear")

    def incr(self, key, delta):
        if self.in_outage():
            raise CacheUnavailable("the cache is unreachable")
        try:
            return super().incr(key, delta)
        except _OUTAGE_ERRORS as exc:
            self.record_outage(exc)
            raise CacheUnavailable(f"the cache is unreachable: {exc}") from exc


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ResilientClient

    def in_outage(self) -> bool:
        """Whether Redis failed within the last OUTAGE_RETRY_SECONDS."""
        return self._cache.in_outage()
