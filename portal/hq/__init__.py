"""HQ console: sign in with a password, watch intake across the stores, act on the queues,
drill into any return, run the chain's configuration and read the audit log. Views stay
thin: the hq services check permissions and stores themselves and write the audit events;
a view parses the form, calls one service, commits once and redirects.

One blueprint (``hq``); each module holds the views of one concern and registers them on it."""

from portal.hq import (  # noqa: F401
    accounts,
    admin,
    approvals,
    audit,
    auth,
    credit_notes,
    dashboard,
    exports,
    queues,
    returns,
    vendor,
    webhooks,
)
from portal.hq.base import bp

__all__ = ["bp"]
