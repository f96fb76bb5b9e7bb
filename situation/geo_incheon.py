"""Incheon's 2026-07-01 reorganisation, derived from the 2022 district polygons.

On 2026-07-01 Incheon went from 2 counties and 8 districts to 2 counties and 9 districts:

- 중구 (28110) and 동구 (28140) became 제물포구 (the inland part of 중구 plus 동구) and 영종구
  (the 중구 islands: 영종도, 용유도, 무의도 and the small islands around them). The new boundary
  is the sea, so sorting the parts of the 중구 multipolygon by island reproduces it.
- 서구 (28260) was split along the 경인아라뱃길 (Ara canal): 검단구 north of it, 서구 south of it.
  The 2022 file has no canal, so the cut follows the hand-drawn polygon ``GEOMDAN_CUT`` below.

Usage::

    derived = derive_incheon_2026(polygons)  # {"28110": MultiPolygon, "28140": ..., ...}
    for d in derived:
        print(d.code, d.name_ko, d.geometry.area)

``docs/districts.md`` documents the sources, the expected error and how to drop in the official
boundaries once they are published (a file that already holds 제물포구 etc. is used as it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

JUNG_GU = "28110"
DONG_GU = "28140"
SEO_GU = "28260"

# Provisional codes for the new districts: the official 5-digit MOIS codes were not available
# to us. "P" never appears in an official code, so these cannot collide with a real one; the
# leading "28" keeps the city prefix (Incheon) that callers may group by.
JEMULPO_GU = "28P10"
YEONGJONG_GU = "28P20"
GEOMDAN_GU = "28P60"
PROVISIONAL_CODES = frozenset({JEMULPO_GU, YEONGJONG_GU, GEOMDAN_GU})

# Parts of the 2022 중구 multipolygon whose centroid lies in this box stay on the mainland side
# (제물포구): the inland 원도심 with 월미도, and 물치도 (작약도), which the 2022 file files under
# 중구 although it is 동구 만석동 — both end up in 제물포구. Every other part (영종도/용유도,
# 무의도, 팔미도 and the islets off 영종도) goes to 영종구.
JEMULPO_PART_MIN_LON = 126.585
JEMULPO_PART_MAX_LAT = 37.505

# The 검단 cut, (longitude, latitude) in WGS84. Its southern edge is our trace of the Ara canal:
# from the sea just north of 정서진 (the Incheon canal terminal, which stays in 서구) due east
# along the old 굴포천 방수로 to where the canal enters 계양구 (the narrow westward spur of
# 계양구 at about 126.682°E 37.578°N in the 2022 file, which is the canal itself). East of that
# point the cut runs inside the 계양구 spur, so the existing 서구/계양구 boundary takes over.
# The western edge keeps 세어도 (원창동, stays in 서구) outside. The rest of the polygon lies
# beyond 서구 and only bounds the intersection. Expected error: a few hundred metres along the
# canal (land there is canal banks, parks, the landfill and industry).
GEOMDAN_CUT: tuple[tuple[float, float], ...] = (
    (126.5650, 37.5850),  # sea, north-west of 세어도
    (126.5650, 37.6600),  # sea, north of the 서구/김포 boundary
    (126.7600, 37.6600),  # 김포, north-east of 서구
    (126.7600, 37.5770),  # 계양구, east of the canal spur
    (126.7100, 37.5770),  # inside the 계양구 canal spur, south of where 서구 and it meet
    (126.6900, 37.5780),  # inside the 계양구 canal spur
    (126.6700, 37.5775),  # canal, north of 검암역 (37.5693, 126.6737)
    (126.6300, 37.5765),  # canal, south of the landfill (수도권매립지)
    (126.5790, 37.5755),  # canal mouth, north of 정서진 (37.5714)
    (126.5740, 37.5800),  # sea, east of 세어도
)


@dataclass(frozen=True)
class DerivedDistrict:
    """A 2026 district built from 2022 polygons."""

    code: str
    name_ko: str
    geometry: BaseGeometry


def _parts(geometry: BaseGeometry) -> list[Polygon]:
    """Return the polygons of a Polygon or MultiPolygon."""
    return [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon)]


def _is_jemulpo_part(part: Polygon) -> bool:
    """Say whether a part of the old 중구 lies on the mainland side (원도심, 월미도, 물치도)."""
    centroid = part.centroid
    return centroid.x >= JEMULPO_PART_MIN_LON and centroid.y <= JEMULPO_PART_MAX_LAT


def split_jung_dong(
    jung_gu: BaseGeometry, dong_gu: BaseGeometry
) -> tuple[BaseGeometry, BaseGeometry]:
    """Return (제물포구, 영종구) geometries from the 2022 중구 and 동구."""
    mainland = [p for p in _parts(jung_gu) if _is_jemulpo_part(p)]
    islands = [p for p in _parts(jung_gu) if not _is_jemulpo_part(p)]
    if not mainland or not islands:
        raise ValueError("중구 geometry does not have the expected mainland and island parts")
    jemulpo = shapely.union_all([*mainland, dong_gu])
    yeongjong = shapely.union_all(islands)
    return jemulpo, yeongjong


def split_seo(seo_gu: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """Return (서구, 검단구) geometries from the 2022 서구, cut along the Ara canal."""
    cut = Polygon(GEOMDAN_CUT)
    geomdan = shapely.intersection(seo_gu, cut)
    rest = shapely.difference(seo_gu, cut)
    if geomdan.is_empty or rest.is_empty:
        raise ValueError("서구 geometry does not straddle the 검단 cut")
    return _polygonal(rest), _polygonal(geomdan)


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Drop slivers of lower dimension (lines, points) an overlay may leave behind."""
    return shapely.union_all(_parts(geometry))


def derive_incheon_2026(polygons: Mapping[str, BaseGeometry]) -> list[DerivedDistrict]:
    """Return 제물포구, 영종구, 서구 and 검단구 built from the 2022 중구, 동구 and 서구."""
    missing = {JUNG_GU, DONG_GU, SEO_GU} - set(polygons)
    if missing:
        raise KeyError(f"2022 Incheon districts missing from the boundary file: {sorted(missing)}")
    jemulpo, yeongjong = split_jung_dong(polygons[JUNG_GU], polygons[DONG_GU])
    seo, geomdan = split_seo(polygons[SEO_GU])
    return [
        DerivedDistrict(JEMULPO_GU, "제물포구", jemulpo),
        DerivedDistrict(YEONGJONG_GU, "영종구", yeongjong),
        DerivedDistrict(SEO_GU, "서구", seo),
        DerivedDistrict(GEOMDAN_GU, "검단구", geomdan),
    ]
