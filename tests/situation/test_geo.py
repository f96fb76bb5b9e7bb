"""District resolution for Seoul and Incheon, including Incheon's 2026-07-01 districts."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest
import shapely
from shapely.geometry import mapping

from situation import geo, geo_incheon
from situation.geo import (
    CoordinateProblem,
    District,
    InvalidCoordinatesError,
    in_service_area,
    load_districts,
    resolve_district,
    validate_coordinates,
)

# (latitude, longitude, expected code, expected Korean name, expected city)
KNOWN_PLACES = {
    "Seoul City Hall": (37.5663, 126.9779, "11140", "중구", "서울특별시"),
    "Gwanghwamun": (37.5759, 126.9768, "11110", "종로구", "서울특별시"),
    "Gangnam-gu Office": (37.5172, 127.0473, "11680", "강남구", "서울특별시"),
    "COEX": (37.5116, 127.0594, "11680", "강남구", "서울특별시"),
    "Yeouido": (37.5219, 126.9245, "11560", "영등포구", "서울특별시"),
    "Incheon Airport": (37.4602, 126.4407, "28P20", "영종구", "인천광역시"),
    "Muuido": (37.3866, 126.4186, "28P20", "영종구", "인천광역시"),
    "Geomdan new town": (37.596, 126.687, "28P60", "검단구", "인천광역시"),
    "Majeon station": (37.5976, 126.6672, "28P60", "검단구", "인천광역시"),
    "Geomdan-Oryu station": (37.5946, 126.6275, "28P60", "검단구", "인천광역시"),
    "Cheongna": (37.534, 126.6495, "28260", "서구", "인천광역시"),
    "Geomam station (south of the Ara canal)": (37.5693, 126.6737, "28260", "서구", "인천광역시"),
    "Seo-gu Office": (37.5456, 126.676, "28260", "서구", "인천광역시"),
    "Dongincheon station": (37.4753, 126.6329, "28P10", "제물포구", "인천광역시"),
    "Jung-gu Office (Incheon)": (37.4738, 126.6216, "28P10", "제물포구", "인천광역시"),
    "Wolmido": (37.475, 126.597, "28P10", "제물포구", "인천광역시"),
    "Songdo": (37.392, 126.643, "28185", "연수구", "인천광역시"),
    "Ganghwa-eup": (37.747, 126.488, "28710", "강화군", "인천광역시"),
    "Bupyeong station": (37.4895, 126.7245, "28237", "부평구", "인천광역시"),
}


@pytest.mark.parametrize("place", sorted(KNOWN_PLACES))
def test_known_places_resolve_to_their_district(place: str) -> None:
    lat, lon, code, name_ko, city_ko = KNOWN_PLACES[place]
    district = resolve_district(lat, lon)
    assert district is not None, place
    assert (district.code, district.name_ko, district.city_ko) == (code, name_ko, city_ko)


def test_gangnam_station_sits_on_the_gangnam_seocho_boundary() -> None:
    # 강남대로 is the boundary: the station's coordinates are ~5 m from it, so either is right.
    district = resolve_district(37.4979, 127.0276)
    assert district is not None
    assert district.name_ko in {"강남구", "서초구"}
    east_of_the_avenue = resolve_district(37.4979, 127.0300)
    assert east_of_the_avenue is not None and east_of_the_avenue.name_ko == "강남구"


def test_seoul_and_incheon_jung_gu_are_different_districts() -> None:
    seoul = resolve_district(37.5663, 126.9779)
    incheon = resolve_district(37.4738, 126.6216)
    assert seoul is not None and incheon is not None
    assert seoul.full_name("ko") == "서울특별시 중구"
    assert seoul.full_name("en") == "Jung-gu, Seoul"
    assert incheon.full_name("en") == "Jemulpo-gu, Incheon"
    assert seoul.code != incheon.code


def test_outside_the_service_area_is_none() -> None:
    assert resolve_district(35.1796, 129.0756) is None  # Busan
    assert not in_service_area(35.1796, 129.0756)
    assert resolve_district(37.2636, 127.0286) is None  # Suwon
    assert resolve_district(37.5034, 126.7660) is None  # Bucheon, between Seoul and Incheon
    assert in_service_area(37.5663, 126.9779)


def test_derived_districts_are_approximate_and_the_rest_exact() -> None:
    area = load_districts()
    by_name = {(d.city_ko, d.name_ko): d for d in area.districts}
    derived = {"제물포구", "영종구", "서구", "검단구"}
    for (city, name), district in by_name.items():
        assert district.approximate == (city == "인천광역시" and name in derived), name
    assert ("인천광역시", "동구") not in by_name
    assert ("인천광역시", "중구") not in by_name
    assert len(area.districts) == 25 + 11  # Seoul: 25 구; Incheon: 9 구 and 2 군


def test_provisional_codes_are_marked_and_cannot_be_official() -> None:
    area = load_districts()
    provisional = {d.name_ko: d.code for d in area.districts if d.provisional_code}
    assert provisional == {"제물포구": "28P10", "영종구": "28P20", "검단구": "28P60"}
    assert all(not code.isdigit() and code.startswith("28") for code in provisional.values())
    assert area.get("28P60") == resolve_district(37.596, 126.687)
    assert area.get("28110") is None


def test_english_names_cover_every_district() -> None:
    names = {d.name_ko: d.name_en for d in load_districts().districts if d.city_en == "Incheon"}
    assert names["제물포구"] == "Jemulpo-gu"
    assert names["영종구"] == "Yeongjong-gu"
    assert names["검단구"] == "Geomdan-gu"
    assert names["서구"] == "Seo-gu"
    assert names["강화군"] == "Ganghwa-gun"
    assert names["옹진군"] == "Ongjin-gun"
    for district in load_districts().districts:
        assert district.name_en.endswith(("-gu", "-gun")), district
        assert district.name("en") == district.name_en and district.name("ko") == district.name_ko


def test_new_incheon_districts_partition_the_old_ones() -> None:
    features = geo._read_features(None)
    old = {
        f["properties"]["sgg"]: shapely.geometry.shape(f["geometry"])
        for f in features
        if f["properties"]["sgg"] in ("28110", "28140", "28260")
    }
    derived = {d.name_ko: d.geometry for d in geo_incheon.derive_incheon_2026(old)}
    old_jung_dong = shapely.union_all([old["28110"], old["28140"]])
    new_jung_dong = shapely.union_all([derived["제물포구"], derived["영종구"]])
    assert shapely.symmetric_difference(old_jung_dong, new_jung_dong).area < 1e-9
    assert shapely.intersection(derived["제물포구"], derived["영종구"]).area < 1e-12
    new_seo = shapely.union_all([derived["서구"], derived["검단구"]])
    assert shapely.symmetric_difference(old["28260"], new_seo).area < 1e-9
    assert shapely.intersection(derived["서구"], derived["검단구"]).area < 1e-12
    # No slivers: 서구 is its mainland plus 세어도, 검단구 one piece.
    assert len(shapely.get_parts(derived["서구"])) == 2
    assert len(shapely.get_parts(derived["검단구"])) == 1
    # 세어도 (the small island off 서구) stays in 서구, not in 검단구.
    assert shapely.contains_xy(derived["서구"], 126.5624, 37.5737)
    # The airport island is the bulk of 영종구; 동구 is inside 제물포구.
    assert derived["영종구"].area > 5 * derived["제물포구"].area
    assert shapely.covers(derived["제물포구"].buffer(1e-9), old["28140"])


def test_geomdan_is_everything_north_of_the_canal_cut() -> None:
    geomdan = resolve_district(37.6300, 126.6700)  # 대곡동/불로동 north
    assert geomdan is not None and geomdan.name_ko == "검단구"
    north = resolve_district(37.5800, 126.6000)  # landfill (오류동), north of the canal
    assert north is not None and north.name_ko == "검단구"
    south = resolve_district(37.5700, 126.6000)  # 경서동, south of the canal
    assert south is not None and south.name_ko == "서구"


@pytest.mark.parametrize(
    ("latitude", "longitude", "reason"),
    [
        (float("nan"), 126.97, CoordinateProblem.NOT_A_NUMBER),
        (37.5, float("inf"), CoordinateProblem.NOT_A_NUMBER),
        ("37.5", 126.97, CoordinateProblem.NOT_A_NUMBER),
        (None, 126.97, CoordinateProblem.NOT_A_NUMBER),
        (True, 126.97, CoordinateProblem.NOT_A_NUMBER),
        (91.0, 126.97, CoordinateProblem.LATITUDE_OUT_OF_RANGE),
        (-90.5, 126.97, CoordinateProblem.LATITUDE_OUT_OF_RANGE),
        (37.5, 181.0, CoordinateProblem.LONGITUDE_OUT_OF_RANGE),
        (37.5, -1000.0, CoordinateProblem.LONGITUDE_OUT_OF_RANGE),
        (0.0, 0.0, CoordinateProblem.NULL_ISLAND),
        (0, 0, CoordinateProblem.NULL_ISLAND),
    ],
)
def test_absurd_coordinates_are_rejected_with_a_reason(
    latitude: object, longitude: object, reason: CoordinateProblem
) -> None:
    with pytest.raises(InvalidCoordinatesError) as caught:
        validate_coordinates(latitude, longitude)
    assert caught.value.reason is reason
    assert str(caught.value)
    with pytest.raises(InvalidCoordinatesError):
        resolve_district(latitude, longitude)  # type: ignore[arg-type]


def test_valid_coordinates_come_back_as_floats() -> None:
    assert validate_coordinates(37, 127) == (37.0, 127.0)
    assert validate_coordinates(-33.86, 151.21) == (-33.86, 151.21)  # valid, just far away
    assert resolve_district(-33.86, 151.21) is None


def test_points_just_offshore_snap_to_the_nearest_district() -> None:
    # 100 m west of the westernmost vertex of 서구's coast near 정서진 (126.5815, 37.5714).
    lat, lon = 37.5714, 126.5815 - 100 / (111_320 * math.cos(math.radians(37.5714)))
    assert resolve_district(lat, lon, tolerance_m=0) is None
    snapped = resolve_district(lat, lon)
    assert snapped is not None and snapped.name_ko == "서구" and snapped.approximate
    assert resolve_district(lat, lon, tolerance_m=50) is None
    # Open sea far from any coast stays outside.
    assert resolve_district(37.30, 126.20) is None


def test_exact_districts_snapped_are_flagged_approximate() -> None:
    # 200 m east of Seoul's easternmost point (강동구, 127.1836) is in Hanam, Gyeonggi.
    area = load_districts()
    gangdong = next(d for d in area.districts if d.name_ko == "강동구")
    assert not gangdong.approximate
    parts = [p for p in shapely.get_parts(_district_geometry(gangdong)) if not p.is_empty]
    east = max((c for p in parts for c in p.exterior.coords), key=lambda c: c[0])
    lon = east[0] + 200 / (111_320 * math.cos(math.radians(east[1])))
    snapped = resolve_district(east[1], lon)
    assert snapped is not None and snapped.code == "11740" and snapped.approximate
    assert resolve_district(east[1], lon, tolerance_m=100) is None


def _district_geometry(district: District) -> shapely.Geometry:
    """Return the polygon of a district from the packaged boundary file."""
    for found, geometry in geo.build_districts(geo._read_features(None)):
        if found.code == district.code:
            return geometry
    raise AssertionError(district)


def test_an_official_2026_file_is_used_as_it_is(tmp_path: Path) -> None:
    # Simulate the official boundaries: a file that already holds the new districts.
    built = geo.build_districts(geo._read_features(None))
    features = [
        {
            "type": "Feature",
            "properties": {
                "sgg": d.code.replace("P", "9"),
                "SIDONM": d.city_ko,
                "SGGNM": d.name_ko,
            },
            "geometry": mapping(g),
        }
        for d, g in built
    ]
    path = tmp_path / "official.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    area = load_districts(path)
    airport = area.resolve(37.4602, 126.4407)
    assert airport == District("28920", "영종구", "Yeongjong-gu", "인천광역시", "Incheon", False)
    assert not any(d.approximate for d in area.districts)
    assert load_districts(path) is area  # cached per path


def test_load_is_cached_and_lazy() -> None:
    assert load_districts() is load_districts()


def test_lookup_speed_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    area = load_districts()
    rng = random.Random(5)
    inside = [(rng.uniform(37.45, 37.65), rng.uniform(126.80, 127.15)) for _ in range(5000)]
    mixed = [(rng.uniform(37.0, 38.0), rng.uniform(124.6, 127.3)) for _ in range(5000)]
    figures = {}
    for label, points in (("Seoul box", inside), ("Seoul+Incheon+sea box", mixed)):
        start = time.perf_counter()
        hits = sum(area.resolve(lat, lon) is not None for lat, lon in points)
        elapsed = time.perf_counter() - start
        figures[label] = (elapsed / len(points) * 1e6, hits, len(points))
    geo.load_districts.cache_clear()
    start = time.perf_counter()
    load_districts()
    load_s = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[geo] cold load (read, derive 2026 districts, index): {load_s * 1000:.0f} ms")
        for label, (us, hits, n) in figures.items():
            print(f"[geo] resolve, {label}: {us:.1f} µs/point ({hits}/{n} in service area)")
    assert figures["Seoul box"][1] > 0
