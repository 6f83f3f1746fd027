"""The direction of imports, read from the source (no import is executed).

- Pure domain modules import neither Flask nor the database, and only other pure modules of
  Homing: they can be tested, reused and reasoned about alone.
- Features (everything under ``hub/`` that is not an adapter or the composition root) never
  import the adapters (``portal``, ``hub.api``, ``hub.web``), the CLI or the app factory.
- Nothing in the product imports what is not the product: the SP-API sandbox, the fault
  campaign, the benchmarks,
  the demo seed and sample data, the tests. Those may import the product.
- Only the composition root (the app factory and the CLI) wires all of it together.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

PURE = {
    "hub.money", "hub.text", "hub.validation", "hub.amazon.feed", "hub.amazon.states",
    "hub.amazon.ratelimit", "hub.amazon.reconcile", "hub.hq.access", "hub.hq.charts",
    "hub.intake.inspection", "hub.intake.states", "hub.items.gtin", "hub.ledger.rules",
    "hub.policy.document",
    "hub.policy.risk", "hub.refunds.engine", "hub.refunds.states", "hub.returns.eligibility",
    "hub.returns.states", "hub.stores.geo", "hub.stores.hours", "hub.stores.importing",
    "hub.stores.routing", "hub.stores.zones", "hub.vouchers.crypto", "hub.vouchers.render",
    "hub.vouchers.states", "hub.machine", "hub.outbox.states", "hub.ledger.states",
    "hub.policy.approvals", "hub.counter.states", "hub.counter.fast",
}
IMPURE_LIBRARIES = ("flask", "flask_sqlalchemy", "flask_babel", "flask_login", "flask_wtf",
                    "flask_limiter", "flask_migrate", "sqlalchemy", "werkzeug", "rq", "redis",
                    "psycopg", "httpx", "sp_api", "jinja2")
COMPOSITION_ROOT = {"hub", "hub.cli", "hub.wsgi", "wsgi"}
ADAPTERS = ("portal", "hub.api", "hub.web")
# E-mail is written for people as pages are: it may use the pages' locale and formats.
PRESENTATION_HELPERS = {"hub.notify": "hub.web.i18n"}


def not_the_product(module: str) -> bool:
    parts = module.split(".")
    return (module.startswith(("hub.sandbox", "hub.demo", "hub.faults", "tests"))
            or module == "hub.hq.sample"
            or "bench" in parts)


def _module(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: pathlib.Path) -> set[str]:
    """Every module (and ``module.name``) the file imports, relative imports resolved."""
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def product_modules() -> dict[str, set[str]]:
    files = sorted(ROOT.glob("hub/**/*.py")) + sorted(ROOT.glob("portal/**/*.py"))
    return {_module(p): imports_of(p) for p in files if not not_the_product(_module(p))}


def _is(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(modules: dict[str, set[str]]) -> list[str]:
    found = []
    for module, imported in sorted(modules.items()):
        if module in COMPOSITION_ROOT:
            continue
        for name in sorted(imported):
            if not_the_product(name):
                found.append(f"{module} imports {name}, which is not the product")
            helper = next((h for m, h in PRESENTATION_HELPERS.items() if _is(module, m)), None)
            if not any(_is(module, a) for a in ADAPTERS) and (
                    any(_is(name, a) for a in ADAPTERS) or _is(name, "hub.cli")
                    or name == "hub.create_app") and not (helper and _is(name, helper)):
                found.append(f"feature {module} imports the adapter or root {name}")
            if module in PURE:
                top = name.split(".")[0]
                if top in IMPURE_LIBRARIES:
                    found.append(f"pure {module} imports {name}")
                elif top == "hub" and name not in PURE and name.rsplit(".", 1)[0] not in PURE \
                        and name != "hub":
                    found.append(f"pure {module} imports impure {name}")
    return found


def test_the_product_imports_point_one_way():
    assert violations(product_modules()) == []


@pytest.mark.parametrize("module, imported, broken", [
    ("hub.refunds.engine", "flask", "pure hub.refunds.engine imports flask"),
    ("hub.money", "hub.models", "pure hub.money imports impure hub.models"),
    ("hub.returns.service", "portal.shopper", "feature hub.returns.service imports the "
                                              "adapter or root portal.shopper"),
    ("hub.jobs.runner", "hub.sandbox.jobs", "hub.jobs.runner imports hub.sandbox.jobs, which "
                                            "is not the product"),
    ("hub.amazon.service", "hub.amazon.bench", "hub.amazon.service imports hub.amazon.bench, "
                                               "which is not the product"),
])
def test_a_forbidden_import_is_caught(module, imported, broken):
    modules = product_modules()
    modules[module] = modules.get(module, set()) | {imported}
    assert broken in violations(modules)


def test_every_pure_module_exists():
    assert {m for m in PURE if not (ROOT / (m.replace(".", "/") + ".py")).exists()} == set()


_ENDS_A_BLOCK = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def unreachable(source: str) -> list[int]:
    """Lines of statements that follow a return, raise, continue or break in the same block."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for before, after in zip(block, block[1:], strict=False):
                if isinstance(before, _ENDS_A_BLOCK):
                    found.append(after.lineno)
    return found


def test_the_product_has_no_unreachable_code():
    files = sorted(ROOT.glob("hub/**/*.py")) + sorted(ROOT.glob("portal/**/*.py"))
    found = {str(p.relative_to(ROOT)): unreachable(p.read_text(encoding="utf-8"))
             for p in files}
    assert {k: v for k, v in found.items() if v} == {}


def test_unreachable_code_is_found():
    assert unreachable("def f(x):\n    return x\n    x += 1\n") == [3]
    assert unreachable("for i in x:\n    if i:\n        continue\n    print(i)\n") == []
