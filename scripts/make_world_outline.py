"""Write reports/data/world_outline.txt, the country outlines under the digest's map.

Source: Natural Earth's 1:110m Admin 0 countries (public domain, naturalearthdata.com), as
shipped in the geopandas 0.14.4 wheel (`geopandas/datasets/naturalearth_lowres/`; geopandas
dropped the dataset in 1.0). Nothing is fetched at run time: the digest reads the small text
file this script writes, which is committed and packaged.

    pip download geopandas==0.14.4 --no-deps -d /tmp/geo
    python scripts/make_world_outline.py /tmp/geo/geopandas-0.14.4-py3-none-any.whl

Each output line is one ring (a country's outer boundary or an island) as SVG path data in
map units of 1/UNITS degree: x = (lon + 180) * UNITS, y = (LAT_TOP - lat) * UNITS, the first
point absolute (`M`), the rest relative (`l`). Rings are simplified (Douglas-Peucker,
TOLERANCE degrees); rings smaller than MIN_AREA square degrees, and Antarctica, are dropped.
"""

from __future__ import annotations

import struct
import sys
import zipfile
from pathlib import Path

SHAPEFILE = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres.shp"
OUT = Path(__file__).resolve().parent.parent / "reports" / "data" / "world_outline.txt"
UNITS = 2  # map units per degree: 0.5-degree precision, enough for a 720-px-wide map
LAT_TOP, LAT_BOTTOM = 84, -58  # the map's latitude range: Antarctica left out
TOLERANCE = 0.35  # degrees
MIN_AREA = 0.6  # square degrees


def polygons(shp: bytes) -> list[list[list[tuple[float, float]]]]:
    """The rings of every polygon record of an ESRI shapefile (type 5), as (lon, lat) lists."""
    shapes, offset = [], 100
    while offset < len(shp):
        _number, words = struct.unpack(">ii", shp[offset:offset + 8])
        content = shp[offset + 8:offset + 8 + 2 * words]
        offset += 8 + 2 * words
        (shape_type,) = struct.unpack("<i", content[:4])
        if shape_type != 5:
            continue
        n_parts, n_points = struct.unpack("<ii", content[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", content[44:44 + 4 * n_parts]))
        base = 44 + 4 * n_parts
        points = [struct.unpack("<2d", content[base + 16 * i:base + 16 * i + 16])
                  for i in range(n_points)]
        shapes.append([points[a:b] for a, b in zip(parts, [*parts[1:], n_points], strict=True)])
    return shapes


def simplify(ring: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker on a closed ring (the first point is kept as an anchor)."""
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = ring[a], ring[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        best, far = -1.0, -1
        for i in range(a + 1, b):
            px, py = ring[i]
            dist = (abs(dy * (px - ax) - dx * (py - ay)) / norm if norm
                    else ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5)
            if dist > best:
                best, far = dist, i
        if far > 0 and best > tolerance:
            keep[far] = True
            stack += [(a, far), (far, b)]
    return [p for p, k in zip(ring, keep, strict=True) if k]


def area(ring: list[tuple[float, float]]) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1],
                                                                    strict=True))) / 2


def path(ring: list[tuple[float, float]]) -> str | None:
    """One ring as `M x y l dx dy ...` in map units, repeated points dropped."""
    points: list[tuple[int, int]] = []
    for lon, lat in ring:
        point = (round((lon + 180) * UNITS), round((LAT_TOP - max(lat, LAT_BOTTOM)) * UNITS))
        if not points or point != points[-1]:
            points.append(point)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(points) < 3:
        return None
    (x, y), steps = points[0], []
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        steps.append(f"{x1 - x0} {y1 - y0}")
    return f"M{x} {y}l" + " ".join(steps) + "z"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shp = archive.read(SHAPEFILE)
    lines = []
    for rings in polygons(shp):
        if max(lat for ring in rings for _, lat in ring) < -60:  # Antarctica
            continue
        for ring in rings:
            if area(ring) < MIN_AREA:
                continue
            drawn = path(simplify(ring, TOLERANCE))
            if drawn:
                lines.append(drawn)
    header = (f"# Natural Earth 1:110m Admin 0 countries (public domain), via geopandas 0.14.4; "
              f"scripts/make_world_outline.py. Units 1/{UNITS} degree, "
              f"y from latitude {LAT_TOP} down to {LAT_BOTTOM}.")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(lines)} rings, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
