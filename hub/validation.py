"""Input checking shared by the API, the portal and the connectors: collect every problem
with a field path and a message, then refuse the whole input at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation


class InvalidInput(Exception):
    """The input was refused; ``errors`` lists each problem as {field, message}."""

    code = "validation_failed"

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class Checker:
    """Reads fields out of a JSON-like mapping, remembering what was wrong."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def done(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)

    def text(self, data: dict, key: str, path: str, *, required: bool = True,
             max_len: int = 200, pattern: str | None = None, default: str = "") -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.fail(path, "is required")
            return default
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return default
        value = value.strip()
        if len(value) > max_len:
            self.fail(path, f"must be at most {max_len} characters")
        elif pattern and not re.fullmatch(pattern, value):
            self.fail(path, "has the wrong format")
        return value

    def choice(self, data: dict, key: str, path: str, options: tuple[str, ...], *,
               default: str | None = None) -> str:
        value = data.get(key, default)
        if value not in options:
            self.fail(path, f"must be one of: {', '.join(options)}")
            return options[0]
        return value

    def integer(self, data: dict, key: str, path: str, *, lo: int, hi: int,
                default: int | None = None) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "must be a whole number")
            return lo
        if not lo <= value <= hi:
            self.fail(path, f"must be between {lo} and {hi}")
        return value

    def decimal(self, data: dict, key: str, path: str, *, default: str | None = None,
                minimum: Decimal = Decimal(0)) -> Decimal:
        value = data.get(key, default)
        if isinstance(value, bool) or value is None:
            self.fail(path, "is required" if value is None else "must be an amount")
            return Decimal(0)
        try:
            amount = Decimal(str(value)) if isinstance(value, int | str) else value
            if not isinstance(amount, Decimal) or not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.fail(path, "must be an amount such as \"19.99\"")
            return Decimal(0)
        if amount < minimum:
            self.fail(path, f"must be at least {minimum}")
        return amount

    def timestamp(self, data: dict, key: str, path: str, *,
                  required: bool = False) -> datetime | None:
        value = data.get(key)
        if value in (None, ""):
            if required:
                self.fail(path, "is required")
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(path, "must be an ISO 8601 date-time")
            return None
        if parsed.tzinfo is None:
            self.fail(path, "needs a time-zone offset (Z or +hh:mm)")
            return None
        return parsed.astimezone(UTC)

    def items(self, data: dict, key: str, path: str, *, min_items: int = 0,
              max_items: int = 500) -> list[dict]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(path, "must be a list of objects")
            return []
        if not min_items <= len(value) <= max_items:
            self.fail(path, f"must have between {min_items} and {max_items} entries")
        return value
