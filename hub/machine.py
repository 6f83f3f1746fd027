"""What every state machine shares: a table of allowed edges per state, and one check that
refuses any other edge by naming it. Each feature declares its table in its ``states.py``."""

from __future__ import annotations


class TransitionError(ValueError):
    def __init__(self, what: str, current: str, target: str):
        super().__init__(f"a {what} that is {current} cannot become {target}")
        self.current, self.target = current, target


def check(table: dict[str, set[str]], what: str, current: str, target: str) -> None:
    if target not in table.get(current, set()):
        raise TransitionError(what, current, target)


def registered() -> dict[tuple[str, str], dict[str, set[str]]]:
    """Every status column's machine, as each feature's ``states.py`` declares it
    (``MACHINES``): {(table, column): transitions}."""
    import importlib
    import pkgutil

    import hub

    machines = {}
    for info in pkgutil.iter_modules(hub.__path__):
        if info.ispkg and (hub.ROOT / "hub" / info.name / "states.py").exists():
            machines.update(importlib.import_module(f"hub.{info.name}.states").MACHINES)
    return machines
