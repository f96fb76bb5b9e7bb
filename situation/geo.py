"""Offline district (구/군) resolution for Seoul and Incheon, as of Incheon's 2026-07-01 reform.

Usage::

    validate_coordinates(37.4602, 126.4407)  # (37.4602, 126.4407), or InvalidCoordinatesError
    resolve_district(37.4602, 126.4407)      # District(code="28P20", name_ko="영종구", ...)
    in_service_area(35.1796, 129.0756)       # False: Busan is outside Seoul and Incheon

The boundaries come from ``situation/data/seoul_incheon_sgg_20220309.geojson`` (SGIS via
vuski/admdongkor, CC BY 4.0 + KOGL Type 1, see ``situation/data/NOTICE.md``). Incheon's new
districts (제물포구, 영종구, 검단구, and the smaller 서구) are derived from the 2022 polygons by
``situation.geo_incheon`` and flagged ``approximate=True``; see ``docs/districts.md``.

Nothing is read at import time: ``load_districts()`` builds the index on first use and caches it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from situation.geo_incheon import (
    DONG_GU,
    GEOMDAN_GU,
    JEMULPO_GU,
    JUNG_GU,
    PROVISIONAL_CODES,
    SEO_GU,
    YEONGJONG_GU,
    derive_incheon_2026,
)

__all__ = [
    "BOUNDARY_FILE",
    "DEFAULT_SNAP_TOLERANCE_M",
    "NEW_INCHEON_CODES",
    "PROVISIONAL_CODES",
    "CoordinateProblem",
    "District",
    "InvalidCoordinatesError",
    "ServiceArea",
    "build_districts",
    "in_service_area",
    "load_districts",
    "resolve_district",
    "validate_coordinates",
]

log = logging.getLogger(__name__)

BOUNDARY_FILE = "seoul_incheon_sgg_20220309.geojson"

# A point that falls just outside every polygon (a pier, a bridge, GPS jitter on the coast, the
# simplified outline of the 2022 file) is given the nearest district within this distance.
DEFAULT_SNAP_TOLERANCE_M = 250.0

SEOUL_KO, INCHEON_KO = "서울특별시", "인천광역시"
CITY_EN = {SEOUL_KO: "Seoul", INCHEON_KO: "Incheon"}
CITY_BY_PREFIX = {"11": SEOUL_KO, "28": INCHEON_KO}

# Official romanisation of every district (and 서해구, the name 서구 may take after the reform).
NAME_EN: dict[tuple[str, str], str] = {
    (SEOUL_KO, "종로구"): "Jongno-gu",
    (SEOUL_KO, "중구"): "Jung-gu",
    (SEOUL_KO, "용산구"): "Yongsan-gu",
    (SEOUL_KO, "성동구"): "Seongdong-gu",
    (SEOUL_KO, "광진구"): "Gwangjin-gu",
    (SEOUL_KO, "동대문구"): "Dongdaemun-gu",
    (SEOUL_KO, "중랑구"): "Jungnang-gu",
    (SEOUL_KO, "성북구"): "Seongbuk-gu",
    (SEOUL_KO, "강북구"): "Gangbuk-gu",
    (SEOUL_KO, "도봉구"): "Dobong-gu",
    (SEOUL_KO, "노원구"): "Nowon-gu",
    (SEOUL_KO, "은평구"): "Eunpyeong-gu",
    (SEOUL_KO, "서대문구"): "Seodaemun-gu",
    (SEOUL_KO, "마포구"): "Mapo-gu",
    (SEOUL_KO, "양천구"): "Yangcheon-gu",
    (SEOUL_KO, "강서구"): "Gangseo-gu",
    (SEOUL_KO, "구로구"): "Guro-gu",
    (SEOUL_KO, "금천구"): "Geumcheon-gu",
    (SEOUL_KO, "영등포구"): "Yeongdeungpo-gu",
    (SEOUL_KO, "동작구"): "Dongjak-gu",
    (SEOUL_KO, "관악구"): "Gwanak-gu",
    (SEOUL_KO, "서초구"): "Seocho-gu",
    (SEOUL_KO, "강남구"): "Gangnam-gu",
    (SEOUL_KO, "송파구"): "Songpa-gu",
    (SEOUL_KO, "강동구"): "Gangdong-gu",
    (INCHEON_KO, "중구"): "Jung-gu",
    (INCHEON_KO, "동구"): "Dong-gu",
    (INCHEON_KO, "제물포구"): "Jemulpo-gu",
    (INCHEON_KO, "영종구"): "Yeongjong-gu",
    (INCHEON_KO, "미추홀구"): "Michuhol-gu",
    (INCHEON_KO, "연수구"): "Yeonsu-gu",
    (INCHEON_KO, "남동구"): "Namdong-gu",
    (INCHEON_KO, "부평구"): "Bupyeong-gu",
    (INCHEON_KO, "계양구"): "Gyeyang-gu",
    (INCHEON_KO, "서구"): "Seo-gu",
    (INCHEON_KO, "서해구"): "Seohae-gu",
    (INCHEON_KO, "검단구"): "Geomdan-gu",
    (INCHEON_KO, "강화군"): "Ganghwa-gun",
    (INCHEON_KO, "옹진군"): "Ongjin-gun",
}

# Provisional codes of the districts created on 2026-07-01 (see situation.geo_incheon).
NEW_INCHEON_CODES = {"제물포구": JEMULPO_GU, "영종구": YEONGJONG_GU, "검단구": GEOMDAN_GU}
_NEW_INCHEON_NAMES = frozenset(NEW_INCHEON_CODES)
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class District:
    """A 구/군 of Seoul or Incheon; ``approximate`` when its boundary was derived by us."""

    code: str
    name_ko: str
    name_en: str
    city_ko: str
    city_en: str
    approximate: bool = False

    @property
    def provisional_code(self) -> bool:
        """Say whether ``code`` is our placeholder rather than an official MOIS code."""
        return self.code in PROVISIONAL_CODES

    def name(self, lang: str) -> str:
        """Return the district name in ``lang`` ("ko" or anything else for English)."""
        return self.name_ko if lang == "ko" else self.name_en

    def full_name(self, lang: str) -> str:
        """Return city and district, e.g. "인천광역시 영종구" or "Yeongjong-gu, Incheon"."""
        if lang == "ko":
            return f"{self.city_ko} {self.name_ko}"
        return f"{self.name_en}, {self.city_en}"


class CoordinateProblem(StrEnum):
    """Why a pair of coordinates was rejected (stable values for message catalogues)."""

    NOT_A_NUMBER = "not_a_number"
    LATITUDE_OUT_OF_RANGE = "latitude_out_of_range"
    LONGITUDE_OUT_OF_RANGE = "longitude_out_of_range"
    NULL_ISLAND = "null_island"


class InvalidCoordinatesError(ValueError):
    """Coordinates that cannot be a real location; ``reason`` says which rule they broke."""

    def __init__(self, reason: CoordinateProblem, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _as_float(value: object, axis: str) -> float:
    """Return ``value`` as a finite float or raise InvalidCoordinatesError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCoordinatesError(
            CoordinateProblem.NOT_A_NUMBER, f"{axis} must be a number, got {value!r}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidCoordinatesError(
            CoordinateProblem.NOT_A_NUMBER, f"{axis} must be finite, got {value!r}"
        )
    return number


def validate_coordinates(latitude: object, longitude: object) -> tuple[float, float]:
    """Return (latitude, longitude) as floats, or raise InvalidCoordinatesError with a reason."""
    lat = _as_float(latitude, "latitude")
    lon = _as_float(longitude, "longitude")
    if not -90.0 <= lat <= 90.0:
        raise InvalidCoordinatesError(
            CoordinateProblem.LATITUDE_OUT_OF_RANGE,
            f"latitude must be between -90 and 90, got {lat}",
        )
    if not -180.0 <= lon <= 180.0:
        raise InvalidCoordinatesError(
            CoordinateProblem.LONGITUDE_OUT_OF_RANGE,
            f"longitude must be between -180 and 180, got {lon}",
        )
    if abs(lat) < 1e-6 and abs(lon) < 1e-6:
        raise InvalidCoordinatesError(
            CoordinateProblem.NULL_ISLAND,
            "(0, 0) is the placeholder a device sends when it has no fix",
        )
    return lat, lon


def _distance_m(lat: float, lon: float, other_lat: float, other_lon: float) -> float:
    """Return the distance in metres between two nearby points (equirectangular)."""
    dx = (other_lon - lon) * math.cos(math.radians((lat + other_lat) / 2)) * _METRES_PER_DEGREE
    dy = (other_lat - lat) * _METRES_PER_DEGREE
    return math.hypot(dx, dy)


class ServiceArea:
    """The districts of the service area with a spatial index over their polygons."""

    def __init__(self, districts: Iterable[tuple[District, BaseGeometry]]) -> None:
        self._districts: list[District] = []
        parts: list[Polygon] = []
        owners: list[int] = []
        for district, geometry in districts:
            index = len(self._districts)
            self._districts.append(district)
            for part in shapely.get_parts(geometry):
                if isinstance(part, Polygon) and not part.is_empty:
                    shapely.prepare(part)
                    parts.append(part)
                    owners.append(index)
        if not parts:
            raise ValueError("a service area needs at least one polygon")
        self._parts = parts
        self._owners = owners
        self._tree = shapely.STRtree(parts)
        self._by_code = {d.code: d for d in self._districts}

    @property
    def districts(self) -> tuple[District, ...]:
        """Return every district, in boundary-file order."""
        return tuple(self._districts)

    def get(self, code: str) -> District | None:
        """Return the district with this code, if it exists."""
        return self._by_code.get(code)

    def resolve(
        self,
        latitude: float,
        longitude: float,
        *,
        tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    ) -> District | None:
        """Return the district containing the point (or nearest within ``tolerance_m``)."""
        lat, lon = validate_coordinates(latitude, longitude)
        point = Point(lon, lat)
        for i in sorted(self._tree.query(point).tolist()):
            if shapely.intersects_xy(self._parts[i], lon, lat):
                return self._districts[self._owners[i]]
        if tolerance_m <= 0:
            return None
        return self._snap(lat, lon, point, tolerance_m)

    def _snap(self, lat: float, lon: float, point: Point, tolerance_m: float) -> District | None:
        """Return the nearest district within ``tolerance_m``, marked approximate."""
        dlat = tolerance_m / _METRES_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        window = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        best: tuple[float, int] | None = None
        for i in self._tree.query(window).tolist():
            nearest = nearest_points(self._parts[i], point)[0]
            distance = _distance_m(lat, lon, nearest.y, nearest.x)
            if distance <= tolerance_m and (best is None or distance < best[0]):
                best = (distance, i)
        if best is None:
            return None
        return dataclasses.replace(self._districts[self._owners[best[1]]], approximate=True)

    def contains(
        self, latitude: float, longitude: float, *, tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M
    ) -> bool:
        """Say whether the point lies in Seoul or Incheon (within ``tolerance_m``)."""
        return self.resolve(latitude, longitude, tolerance_m=tolerance_m) is not None


def _english_name(city_ko: str, name_ko: str) -> str:
    """Return the romanised district name, or the Korean one for a name we do not know."""
    name_en = NAME_EN.get((city_ko, name_ko))
    if name_en is None:
        log.warning("no English name for %s %s; using the Korean name", city_ko, name_ko)
        return name_ko
    return name_en


def _district(code: str, name_ko: str, *, approximate: bool) -> District:
    """Build a District from its code and Korean name."""
    city_ko = CITY_BY_PREFIX[code[:2]]
    return District(
        code=code,
        name_ko=name_ko,
        name_en=_english_name(city_ko, name_ko),
        city_ko=city_ko,
        city_en=CITY_EN[city_ko],
        approximate=approximate,
    )


def _read_features(path: Path | None) -> list[dict[str, Any]]:
    """Return the GeoJSON features of the boundary file (the packaged one by default)."""
    if path is None:
        text = resources.files("situation.data").joinpath(BOUNDARY_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    features = json.loads(text).get("features")
    if not isinstance(features, list):
        raise ValueError("boundary file is not a GeoJSON FeatureCollection")
    return features


def build_districts(features: Sequence[dict[str, Any]]) -> list[tuple[District, BaseGeometry]]:
    """Turn GeoJSON features (properties ``sgg``, ``SGGNM``) into 2026 districts and polygons."""
    rows: list[tuple[str, str, BaseGeometry]] = []
    for feature in features:
        props = feature.get("properties") or {}
        code, name_ko = str(props.get("sgg", "")), str(props.get("SGGNM", ""))
        if code[:2] not in CITY_BY_PREFIX or not name_ko:
            continue
        geometry = shapely.make_valid(shape(feature["geometry"]))
        rows.append((code, name_ko, geometry))
    names = {name for code, name, _ in rows if code.startswith("28")}
    codes = {code for code, _, _ in rows}
    needs_reform = not (names & _NEW_INCHEON_NAMES) and {JUNG_GU, DONG_GU, SEO_GU} <= codes
    out: list[tuple[District, BaseGeometry]] = []
    if not needs_reform:
        return [(_district(c, n, approximate=False), g) for c, n, g in rows]
    derived = derive_incheon_2026({c: g for c, _, g in rows if c in (JUNG_GU, DONG_GU, SEO_GU)})
    replaced = {JUNG_GU, DONG_GU, SEO_GU}
    for code, name_ko, geometry in rows:
        if code not in replaced:
            out.append((_district(code, name_ko, approximate=False), geometry))
    for d in derived:
        out.append((_district(d.code, d.name_ko, approximate=True), d.geometry))
    return out


@lru_cache(maxsize=4)
def load_districts(path: Path | None = None) -> ServiceArea:
    """Return the service area built from the boundary file (cached per path)."""
    return ServiceArea(build_districts(_read_features(path)))


def resolve_district(
    latitude: float, longitude: float, *, tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M
) -> District | None:
    """Return the Seoul/Incheon district at the point, None outside; raise on absurd input."""
    return load_districts().resolve(latitude, longitude, tolerance_m=tolerance_m)


def in_service_area(
    latitude: float, longitude: float, *, tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M
) -> bool:
    """Say whether the point lies in Seoul or Incheon; raise on absurd input."""
    return load_districts().contains(latitude, longitude, tolerance_m=tolerance_m)
