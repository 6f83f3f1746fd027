"""JSON that never turns money into floats: numbers with a fraction arrive as Decimal, and
Decimals leave as strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider


class DecimalJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(s, parse_float=Decimal, **kwargs)
        except RecursionError:  # "[[[[...]]]]" thousands deep: bad JSON, not a crash
            raise ValueError("JSON nested too deeply") from None

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)
