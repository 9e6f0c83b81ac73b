"""Django's Redis cache backend, minus a per-call cost.

Django's RedisCacheClient builds a new redis.Redis object for every cache operation; with
redis-py 5+ that re-creates its table of response callbacks each time, about 0.2 ms of
CPU, which was a third of the time of a page served from the cache. This client keeps one
redis.Redis per connection pool (redis.Redis is thread-safe; connections still come from
the pool), and behaves the same otherwise.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient
