"""Who may see and do what in HQ. Pure: the HQ services call ``Scope.require`` themselves, so
a hidden button is never the only guard, and a store-scoped user only ever gets their store."""

from __future__ import annotations

from dataclasses import dataclass

CHAIN_ROLES = ("hq_ops", "finance", "admin")

# permission -> roles allowed. Store supervisors see their own store's figures and returns;
# clerks work on the tablet and have no HQ access at all.
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard.view": frozenset({"supervisor", "hq_ops", "finance", "admin"}),
    "returns.view": frozenset({"supervisor", "hq_ops", "finance", "admin"}),
    "queues.operations": frozenset({"supervisor", "hq_ops", "admin"}),
    "queues.finance": frozenset({"hq_ops", "finance", "admin"}),
    "risk.review": frozenset({"hq_ops", "admin"}),
    "refunds.retry": frozenset({"hq_ops", "finance", "admin"}),
    "outbox.replay": frozenset({"hq_ops", "admin"}),
    "audit.view": frozenset({"hq_ops", "finance", "admin"}),
    "blocklist.manage": frozenset({"hq_ops", "admin"}),
    "stores.manage": frozenset({"admin"}),
    "policy.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "keys.manage": frozenset({"admin"}),
    "devices.manage": frozenset({"admin"}),
    "connector.manage": frozenset({"admin"}),
    # Vendor Central: imports, the dispute queue, evidence packs, returns credit notes.
    "vendor.manage": frozenset({"hq_ops", "finance", "admin"}),
    "webhooks.manage": frozenset({"admin"}),
    "accounts.view": frozenset({"hq_ops", "finance", "admin"}),
    "accounts.manage": frozenset({"admin"}),
}


# Everyone with any HQ permission may sign in to the console; derived, so it cannot drift.
HQ_ROLES = tuple(sorted(set().union(*PERMISSIONS.values())))


class Forbidden(Exception):
    def __init__(self, permission: str):
        super().__init__(f"not allowed: {permission}")
        self.permission = permission


@dataclass(frozen=True)
class Scope:
    """The signed-in person as HQ sees them: a role and, for store staff, their one store."""

    user_id: int | None
    role: str
    store_id: int | None = None
    label: str = ""

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(permission)

    @property
    def chain_wide(self) -> bool:
        return self.role in CHAIN_ROLES

    def sees_store(self, store_id: int | None) -> bool:
        return self.chain_wide or (store_id is not None and store_id == self.store_id)
