"""The one owner of a refund's status.

Every change of ``Refund.status`` goes through ``move``: it checks the transition against
``hub.refunds.states``, records the decisive outcomes in the audit trail and runs the effects
other features hang on the state entered, in the same transaction (an effect that leaves the
process emits an outbox message). Features register their effects with ``on_enter``; the app
factory imports every feature, so each process knows all of them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, object_session

from hub.audit.service import Actor, record
from hub.refunds import states
from hub.refunds.models import Refund

# (session, refund, the status it left)
Effect = Callable[[Session, Refund, str], None]
_EFFECTS: dict[str, list[Effect]] = {}

# Where a refund's fate is decided: each lands in the audit trail (the HQ drill-down's
# timeline); the steps in between are in the refund's attempts.
AUDITED_OUTCOMES = ("succeeded", "failed", "amazon_refunded", "manual")
CONNECTOR = Actor("system", None, "amazon-connector")


def on_enter(*targets: str) -> Callable[[Effect], Effect]:
    """Register ``effect`` to run whenever a refund enters one of ``targets``."""
    for target in targets:
        if target not in states.REFUND_TRANSITIONS:
            raise ValueError(f"unknown refund status {target!r}")

    def register(effect: Effect) -> Effect:
        for target in targets:
            if effect not in _EFFECTS.setdefault(target, []):
                _EFFECTS[target].append(effect)
        return effect

    return register


def move(refund: Refund, target: str, actor: Actor = CONNECTOR) -> None:
    """Move ``refund`` to ``target``, or raise TransitionError and change nothing."""
    states.check(states.REFUND_TRANSITIONS, "refund", refund.status, target)
    session = object_session(refund)
    before, refund.status = refund.status, target
    if target in AUDITED_OUTCOMES:
        record(session, actor, f"refund.{target}", "refund", refund.id,
               before={"status": before}, after={"status": target})
    for effect in _EFFECTS.get(target, ()):
        effect(session, refund, before)
