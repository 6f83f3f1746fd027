"""docs/architecture.md, drawn from the code: the features, the direction of their imports
(read as the layering test reads them) and every state machine's table (as each feature's
``states.py`` declares it). tests/unit/test_architecture_doc.py fails when the page and the
code disagree; ``HOMING_WRITE_DOCS=1`` rewrites it."""

from __future__ import annotations

from hub.machine import registered
from tests.unit.test_layers import ADAPTERS, PURE, product_modules

HEADER = """# Homing's architecture

*Generated from the code by `tests/support/architecture.py`; a test fails when this page and
the code disagree (`HOMING_WRITE_DOCS=1 .venv/bin/pytest tests/unit/test_architecture_doc.py`
rewrites it).*

People reach Homing through the **adapters** (`portal/` pages, `hub/api/` REST, `hub/web/`
request plumbing); the adapters call the **features** (`hub/<feature>/`, each owning its
tables, its state machine in `states.py` and the one module that moves it); background work
runs as RQ jobs and outbox handlers inside the features. Imports point one way: adapters →
features → pure domain modules (no Flask, no database). Nothing in the product imports the
sandbox, the benchmarks, the demo seed or the tests; the app factory (`hub/__init__.py`) and
the CLI wire it all together.
"""


def _group(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "portal":
        return "portal"
    if parts[0] != "hub" or len(parts) < 2:
        return None
    return "hub." + parts[1]


def feature_graph() -> dict[str, set[str]]:
    """{feature or adapter: the other ones it imports}."""
    graph: dict[str, set[str]] = {}
    for module, imported in product_modules().items():
        group = _group(module)
        if group is None or module in ("hub.cli", "hub.wsgi"):
            continue
        targets = graph.setdefault(group, set())
        for name in imported:
            other = _group(name)
            if other and other != group and not other.startswith("hub.cli"):
                targets.add(other)
    # single modules at hub/ top level (hub.money, hub.models, ...) stay as they are
    return graph


def _kind(group: str) -> str:
    if group == "portal" or any(group == a or group.startswith(a) for a in ADAPTERS):
        return "adapter"
    if group in PURE:
        return "pure"
    return "feature"


# Shared plumbing every feature may use; left out of the picture so the features show.
PLUMBING = {"hub.models", "hub.extensions", "hub.machine", "hub.text", "hub.validation",
            "hub.money", "hub.unit_of_work", "hub.config", "hub.database", "hub.locales",
            "hub.model_registry"}


def _picture(graph: dict[str, set[str]]) -> list[str]:
    lines = ["## The picture", "", "Arrows point from a module to what it imports (shared "
             "plumbing such as `hub.models`, `hub.money` and `hub.machine` left out).", "",
             "```mermaid", "flowchart LR"]
    for group in sorted(graph):
        if group in PLUMBING:
            continue
        for target in sorted(graph[group] - PLUMBING):
            lines.append(f"  {group.replace('.', '_')}[{group}] --> "
                         f"{target.replace('.', '_')}[{target}]")
    return [*lines, "```", ""]


def _imports_table(graph: dict[str, set[str]]) -> list[str]:
    lines = ["## Features and what they import", "",
             "| module | kind | imports (Homing modules) |", "| --- | --- | --- |"]
    for group in sorted(graph):
        names = ", ".join(f"`{t}`" for t in sorted(graph[group])) or "—"
        lines.append(f"| `{group}` | {_kind(group)} | {names} |")
    return lines


def _machines() -> list[str]:
    lines = ["## State machines", "",
             "Each status column changes only through its machine, which checks the edge; a "
             "PostgreSQL CHECK allows exactly these states.", ""]
    for (table, column), transitions in sorted(registered().items()):
        lines += [f"### `{table}.{column}`", "", "| from | may become |", "| --- | --- |"]
        for state, targets in transitions.items():
            edges = ", ".join(f"`{t}`" for t in sorted(targets)) or "(final)"
            lines.append(f"| `{state}` | {edges} |")
        lines.append("")
    return lines


def render() -> str:
    graph = feature_graph()
    return "\n".join([HEADER, *_picture(graph), *_imports_table(graph), "",
                      *_machines()]).rstrip() + "\n"
