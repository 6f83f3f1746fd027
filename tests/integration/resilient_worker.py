"""``homing worker`` as the tests run it, with one more outbox topic whose first delivery
kills its own work-horse (SIGKILL, as the kernel's OOM killer or a crash would):

    HOMING_DATABASE_URL=... HOMING_REDIS_URL=... python -m tests.integration.resilient_worker MARKER
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from hub import create_app
from hub.jobs.worker import run_worker
from hub.outbox import service as outbox


@outbox.handler("test.kill_horse_once")
def _kill_horse_once(session, message) -> None:
    marker = Path(sys.argv[1])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    run_worker(create_app())
