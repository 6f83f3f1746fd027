"""BCP-47 tags from browsers and phones map to the best catalogue, never to a raw tag."""

from __future__ import annotations

import pytest

from hub.locales import negotiate

CATALOGUES = ["en", "de", "fr", "es", "ja", "zh_Hans"]


@pytest.mark.parametrize("tags, expected", [
    (["en-US"], "en"),
    (["en_us"], "en"),
    (["de-AT"], "de"),
    (["de-CH-1996"], "de"),
    (["zh-Hans-CN"], "zh_Hans"),
    (["zh-CN"], "zh_Hans"),
    (["zh"], "zh_Hans"),
    (["ja-JP"], "ja"),
    (["pt-BR", "es-MX"], "es"),  # no Portuguese: the next language the reader asked for
    (["pt-BR"], None),
    (["*"], None),
    (["", None, "en-GB"], "en"),
    (["en-US;q=0.9"], None),  # not a tag: malformed input is ignored, never passed on
])
def test_every_tag_falls_back_to_the_best_catalogue(tags, expected):
    assert negotiate(tags, CATALOGUES) == expected
