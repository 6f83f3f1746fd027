"""The campaign's TCP proxy: a Redis behind it goes down for its clients and comes back."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import redis

from hub.faults.proxy import TcpProxy


@pytest.mark.redis
def test_cut_resets_open_connections_and_refuses_new_ones_until_restored(redis_url):
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname, target.port or 6379).start()
    try:
        client = redis.Redis(host="127.0.0.1", port=proxy.port, socket_timeout=2,
                             db=int(target.path.strip("/") or 0))
        assert client.ping()
        proxy.cut()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        with pytest.raises(redis.ConnectionError):
            redis.Redis(host="127.0.0.1", port=proxy.port, socket_timeout=2).ping()
        proxy.restore()
        assert client.ping()  # redis-py reconnects
        assert proxy.cuts == 1
    finally:
        proxy.stop()
