"""Where a report is: a village named in the text, coordinates typed or pasted, a map link.

Pure: plain strings and numbers in, plain values out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.text import fold

_NUMBER = r"[-+]?\d{1,3}(?:\.\d{2,})"
# "10.7626, 106.6602", "10.7626 106.6602", map links with "@10.76,106.66" or "q=10.76,106.66".
_PAIR = re.compile(rf"(?<![\d.])({_NUMBER})\s*[,; ]\s*({_NUMBER})(?![\d.])")
# Vietnam and its seas, generously: a pair outside is more likely a typo than a place.
VIETNAM_BOUNDS = ((7.0, 24.0), (101.0, 118.0))
PUBLIC_DECIMALS = 3  # about 100 m: precise enough to find a pothole, not a front door


@dataclass(frozen=True)
class Point:
    """A WGS84 position."""

    latitude: float
    longitude: float

    def rounded(self, decimals: int = PUBLIC_DECIMALS) -> Point:
        """The same place, less precisely (for anything published)."""
        return Point(round(self.latitude, decimals), round(self.longitude, decimals))


def parse_point(text: str) -> Point | None:
    """Coordinates typed or pasted (a map link works too), if they fall in Vietnam."""
    for match in _PAIR.finditer(text or ""):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        (lat_low, lat_high), (lon_low, lon_high) = VIETNAM_BOUNDS
        if lat_low <= latitude <= lat_high and lon_low <= longitude <= lon_high:
            return Point(latitude, longitude)
    return None


def valid_point(latitude: float, longitude: float) -> Point | None:
    """A position sent by a chat app, if it is a real WGS84 position."""
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return Point(latitude, longitude)
    return None


def map_link(point: Point) -> str:
    """A link that opens the position in a map app on a phone."""
    return f"https://www.google.com/maps?q={point.latitude:.6f},{point.longitude:.6f}"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(fold(name))}(?![\w])")


def guess_village(text: str, villages: Sequence[tuple[int, str]]) -> int | None:
    """The id of the village the text names ("đường xóm 3 bị ngập" → Xóm 3), if exactly one.

    ``villages`` are (id, name) pairs. The longest name found wins, so "Xóm 12" is not read
    as "Xóm 1"; two different villages named equally long is no guess at all.
    """
    folded = fold(text or "")
    found: dict[int, int] = {}
    for village_id, name in villages:
        if name.strip() and _pattern(name).search(folded):
            found[village_id] = len(fold(name))
    if not found:
        return None
    longest = max(found.values())
    best = [village_id for village_id, length in found.items() if length == longest]
    return best[0] if len(best) == 1 else None
