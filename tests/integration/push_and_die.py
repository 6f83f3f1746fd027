"""A refund push in its own process that is killed (SIGKILL, no clean-up of any kind) right
after Amazon accepted createFeed, before the feed id could be stored. Run by
test_a_worker_process_killed_after_create_feed_submits_once:

    python -m tests.integration.push_and_die DATABASE_URL SANDBOX_URL
"""

from __future__ import annotations

import os
import signal
import sys

from hub.amazon import jobs
from hub.amazon.connector import Connector
from tests.support.apps import sandbox_app


def _die(self, feed_id: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    database_url, endpoint = sys.argv[1], sys.argv[2]
    Connector.after_create_feed = _die
    jobs.push_refunds(sandbox_app(database_url, endpoint))
    sys.exit("the push finished without reaching createFeed")
