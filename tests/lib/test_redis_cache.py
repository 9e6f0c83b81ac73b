import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the Redis cache backend is only used with REDIS_URL"
)


def test_it_reuses_one_redis_client_per_pool():
    client = cache._cache

    assert client.get_client("a") is client.get_client("b", write=True)


def test_it_behaves_like_djangos_redis_cache():
    cache.set("k", {"page": "<html>"}, 30)
    cache.set("n", 1, 30)

    assert cache.get("k") == {"page": "<html>"}
    assert cache.incr("n") == 2
    assert cache.get_many(["k", "n", "missing"]) == {"k": {"page": "<html>"}, "n": 2}
    assert cache.add("k", "other") is False
    cache.delete("k")
    assert cache.get("k", "gone") == "gone"
