"""URL converters used by every route."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, ValidationError

# Every id column is a 32-bit integer (PostgreSQL ``integer``). A larger number cannot name a
# row; without this bound it reaches the database, which refuses the parameter (500).
DB_INT_MAX = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` for ids: anything that cannot be a row id is a 404 at routing, once for
    every route, before a query is built."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, DB_INT_MAX if max is None else max, signed)

    def to_python(self, value: str) -> int:
        # Python refuses to parse integers of thousands of digits (ValueError, not a routing
        # miss); nothing longer than the bound's ten digits can be in range anyway.
        if len(value.lstrip("-")) > len(str(DB_INT_MAX)):
            raise ValidationError()
        return super().to_python(value)
