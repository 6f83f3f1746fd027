"""A refund push that takes the push lock and then works forever (until a SIGKILL ends it
without any clean-up). Run by test_a_push_killed_while_holding_the_lock_blocks_for_one_lease:

    python -m tests.integration.hold_push_lock REDIS_URL LEASE_SECONDS READY_FILE
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hub import create_app
from hub.amazon import jobs, service


def _work_forever(session, connector_for, now_func=None):
    Path(sys.argv[3]).write_text("holding")
    while True:
        time.sleep(1)


if __name__ == "__main__":
    redis_url, lease = sys.argv[1], float(sys.argv[2])
    app = create_app({"DATABASE_URL": "sqlite://", "REDIS_URL": redis_url,
                      "SECRET_KEY": "test-secret", "MOUNT_SANDBOX": False,
                      "AMAZON_MODE": "sandbox", "AMAZON_ENDPOINT": "http://127.0.0.1:9",
                      "AMAZON_PUSH_LEASE_SECONDS": lease})
    service.push = _work_forever
    jobs.push_refunds(app)
