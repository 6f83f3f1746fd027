"""Access to Redis and RQ queues. Without a Redis URL, jobs run in-process (the demo)."""

from __future__ import annotations

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

QUEUES = ("high", "default", "low")


def redis_connection(app: Flask) -> Redis | None:
    """The app's shared connection pool, for short commands (enqueue, locks, buckets). Its
    5 s socket timeout suits those; a worker's blocking dequeue needs ``worker_connection``."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    conn = app.extensions.get("homing_redis")
    if conn is None:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions["homing_redis"] = conn
    return conn


def worker_connection(url: str) -> Redis:
    """A pool of the worker's own for RQ's blocking dequeue. No socket timeout of ours: RQ sets
    one longer than its dequeue timeout. (On the app's pool, a connection opened with 5 s timed
    out an idle BLPOP and RQ quit.) Keep-alive and a health check notice a dead server."""
    return Redis.from_url(url, socket_connect_timeout=5, socket_keepalive=True,
                          health_check_interval=30)


def queue_health(app: Flask) -> dict:
    conn = redis_connection(app)
    if conn is None:
        return {"status": "ok", "mode": "in-process"}
    try:
        conn.ping()
    except RedisError as exc:
        return {"status": "down", "mode": "rq", "error": type(exc).__name__}
    return {"status": "ok", "mode": "rq"}


def enqueue(app: Flask, func, *args, job_id: str | None = None, queue: str = "default",
            **options):
    """Put a job on an RQ queue; returns the job, or None when a job with that id already
    exists (RQ keeps finished and failed jobs under their id too, so a caller that must know
    its work is in line gives every hand-over an id of its own). Redis errors propagate."""
    from rq import Queue
    from rq.exceptions import DuplicateJobError

    conn = redis_connection(app)
    if conn is None:
        raise RuntimeError("enqueue needs HOMING_REDIS_URL; the demo runs jobs in-process")
    try:
        return Queue(queue, connection=conn).enqueue(func, *args, job_id=job_id,
                                                     unique=job_id is not None, **options)
    except DuplicateJobError:
        return None
