"""Token buckets mirroring Amazon's usage plans, so Homing waits before Amazon says 429.

In Redis (shared by every worker) when one is configured, in memory for the in-process demo.
A bucket is per (seller, operation), like Amazon's."""

from __future__ import annotations

import threading
import time

# Amazon's usage plans (requests per second, burst) per operation, from the SP-API reference
# (amazon-spapi.md). The built-in sandbox enforces the same plans, as Amazon would.
USAGE_PLANS: dict[str, tuple[float, int]] = {
    "createReport": (0.0167, 15), "getReport": (2, 15), "getReports": (0.0222, 10),
    "cancelReport": (0.0222, 10), "getReportDocument": (0.0167, 15),
    "createFeedDocument": (0.5, 15), "createFeed": (0.0083, 15), "getFeed": (2, 15),
    "cancelFeed": (2, 15), "getFeeds": (0.0222, 10), "getFeedDocument": (0.0222, 10),
    "listFinancialEvents": (0.5, 30), "listFinancialEventsByOrderId": (0.5, 30),
    "getOrder": (0.5, 30), "getOrderItems": (0.5, 30), "createRestrictedDataToken": (1, 10),
    "getCatalogItem": (2, 2),  # catalogItems_2022-04-01.json
    "getOrderBuyerInfo": (0.5, 30),
    # Vendor Invoices and Vendor Transaction Status (vendorInvoices.json,
    # vendorTransactionStatus.json)
    "submitInvoices": (10, 10), "getTransaction": (10, 20),
}

# Atomic take: refill by elapsed time, take one token if there is one, else report the wait.
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class Buckets:
    def __init__(self, redis=None, multiplier: float = 1.0):
        self.redis, self.multiplier = redis, multiplier
        self._memory: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._script = redis.register_script(_TAKE) if redis is not None else None

    def take(self, seller: str, operation: str) -> float:
        """Take a token; returns 0 when the call may go now, else the seconds to wait."""
        rate, burst = USAGE_PLANS.get(operation, (1.0, 10))
        rate *= self.multiplier
        key = f"homing:spapi:{seller}:{operation}"
        now = time.time()
        if self._script is not None:
            return float(self._script(keys=[key], args=[rate, burst, now]))
        with self._lock:
            tokens, updated = self._memory.get(key, (float(burst), now))
            tokens = min(burst, tokens + max(0.0, now - updated) * rate)
            if tokens >= 1:
                self._memory[key] = (tokens - 1, now)
                return 0.0
            self._memory[key] = (tokens, now)
            return (1 - tokens) / rate
