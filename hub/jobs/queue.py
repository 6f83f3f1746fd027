"""Access to Redis and RQ queues. Without a Redis URL, jobs run in-process (the demo)."""

from __future__ import annotations

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

QUEUES = ("high", "default", "low")


def redis_connection(app: Flask) -> Redis | None:
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    conn = app.extensions.get("homing_redis")
    if conn is None:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions["homing_redis"] = conn
    return conn


def queue_health(app: Flask) -> dict:
    conn = redis_connection(app)
    if conn is None:
        return {"status": "ok", "mode": "in-process"}
    try:
        conn.ping()
    except RedisError as exc:
        return {"status": "down", "mode": "rq", "error": type(exc).__name__}
    return {"status": "ok", "mode": "rq"}


def enqueue(app: Flask, func, *args, job_id: str | None = None, queue: str = "default"):
    """Put a job on an RQ queue. Duplicate job ids are ignored: the job is already there."""
    from rq import Queue
    from rq.exceptions import DuplicateJobError

    conn = redis_connection(app)
    if conn is None:
        raise RuntimeError("enqueue needs HOMING_REDIS_URL; the demo runs jobs in-process")
    try:
        return Queue(queue, connection=conn).enqueue(func, *args, job_id=job_id,
                                                     unique=job_id is not None)
    except DuplicateJobError:
        return None
