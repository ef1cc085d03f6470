"""Where places are: province names as channels spell them, and how far apart they lie.

Channels write the same province several ways ("新疆维吾尔自治区", "新疆", "Xinjiang"), so
routing compares provinces only after `normalise_province`. Distances are great-circle
kilometres between capitals: coarse, but enough to tell Urumqi from Hangzhou.

    >>> normalise_province("新疆维吾尔自治区"), normalise_province("Zhejiang")
    ('新疆', '浙江')
    >>> round(distance_km(locate("CN", "上海市"), locate("CN", "北京")))
    1067
"""

from __future__ import annotations

import math
import re

__all__ = [
    "COUNTRY_POINTS",
    "PROVINCE_CAPITALS",
    "distance_km",
    "locate",
    "normalise_province",
    "region_key",
    "split_address",
]

Point = tuple[float, float]
"""Latitude and longitude in degrees."""

EARTH_RADIUS_KM = 6371.0088

# The 34 provincial-level divisions of China: short name → (capital, latitude, longitude).
PROVINCE_CAPITALS: dict[str, tuple[str, float, float]] = {
    "北京": ("北京", 39.9042, 116.4074),
    "天津": ("天津", 39.3434, 117.3616),
    "上海": ("上海", 31.2304, 121.4737),
    "重庆": ("重庆", 29.5630, 106.5516),
    "河北": ("石家庄", 38.0428, 114.5149),
    "山西": ("太原", 37.8706, 112.5489),
    "辽宁": ("沈阳", 41.8057, 123.4315),
    "吉林": ("长春", 43.8171, 125.3235),
    "黑龙江": ("哈尔滨", 45.8038, 126.5350),
    "江苏": ("南京", 32.0603, 118.7969),
    "浙江": ("杭州", 30.2741, 120.1551),
    "安徽": ("合肥", 31.8206, 117.2272),
    "福建": ("福州", 26.0745, 119.2965),
    "江西": ("南昌", 28.6820, 115.8579),
    "山东": ("济南", 36.6512, 117.1201),
    "河南": ("郑州", 34.7466, 113.6254),
    "湖北": ("武汉", 30.5928, 114.3055),
    "湖南": ("长沙", 28.2282, 112.9388),
    "广东": ("广州", 23.1291, 113.2644),
    "海南": ("海口", 20.0440, 110.1999),
    "四川": ("成都", 30.5728, 104.0668),
    "贵州": ("贵阳", 26.6470, 106.6302),
    "云南": ("昆明", 25.0389, 102.7183),
    "陕西": ("西安", 34.3416, 108.9398),
    "甘肃": ("兰州", 36.0611, 103.8343),
    "青海": ("西宁", 36.6171, 101.7782),
    "台湾": ("台北", 25.0330, 121.5654),
    "内蒙古": ("呼和浩特", 40.8424, 111.7490),
    "广西": ("南宁", 22.8170, 108.3665),
    "西藏": ("拉萨", 29.6520, 91.1721),
    "宁夏": ("银川", 38.4872, 106.2309),
    "新疆": ("乌鲁木齐", 43.8256, 87.6168),
    "香港": ("香港", 22.3193, 114.1694),
    "澳门": ("澳门", 22.1987, 113.5439),
}

# Romanised names that cross-border channels send (Shopify: "Zhejiang"), casefolded.
_PINYIN = {
    "beijing": "北京", "tianjin": "天津", "shanghai": "上海", "chongqing": "重庆",
    "hebei": "河北", "shanxi": "山西", "liaoning": "辽宁", "jilin": "吉林",
    "heilongjiang": "黑龙江", "jiangsu": "江苏", "zhejiang": "浙江", "anhui": "安徽",
    "fujian": "福建", "jiangxi": "江西", "shandong": "山东", "henan": "河南",
    "hubei": "湖北", "hunan": "湖南", "guangdong": "广东", "hainan": "海南",
    "sichuan": "四川", "guizhou": "贵州", "yunnan": "云南", "shaanxi": "陕西",
    "gansu": "甘肃", "qinghai": "青海", "taiwan": "台湾", "inner mongolia": "内蒙古",
    "nei mongol": "内蒙古", "neimenggu": "内蒙古", "guangxi": "广西", "tibet": "西藏",
    "xizang": "西藏", "ningxia": "宁夏", "xinjiang": "新疆", "hong kong": "香港",
    "hongkong": "香港", "macau": "澳门", "macao": "澳门",
}  # fmt: skip

# Longest first, so "维吾尔自治区" goes before "自治区".
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_LATIN_SUFFIXES = (" province", " sheng", " shi", " municipality", " autonomous region", " sar")

# A representative point (the capital) for common destination countries, ISO alpha-2.
COUNTRY_POINTS: dict[str, Point] = {
    "US": (38.9072, -77.0369),
    "CA": (45.4215, -75.6972),
    "GB": (51.5074, -0.1278),
    "DE": (52.5200, 13.4050),
    "FR": (48.8566, 2.3522),
    "JP": (35.6762, 139.6503),
    "KR": (37.5665, 126.9780),
    "AU": (-35.2809, 149.1300),
    "SG": (1.3521, 103.8198),
    "MY": (3.1390, 101.6869),
    "TH": (13.7563, 100.5018),
    "VN": (21.0278, 105.8342),
    "HK": (22.3193, 114.1694),
    "TW": (25.0330, 121.5654),
    "MO": (22.1987, 113.5439),
}


def normalise_province(name: str) -> str:
    """The short name routing compares: administrative suffixes dropped, pinyin mapped.

    "上海市" → "上海", "广西壮族自治区" → "广西", "Inner Mongolia" → "内蒙古". A name we do not
    recognise comes back trimmed but otherwise as given ("California" stays).
    """
    text = name.strip()
    latin = " ".join(text.casefold().split())
    for suffix in _LATIN_SUFFIXES:
        if latin.endswith(suffix) and latin[: -len(suffix)] in _PINYIN:
            latin = latin[: -len(suffix)]
    if latin in _PINYIN:
        return _PINYIN[latin]
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


def region_key(region: str) -> str:
    """How a region key is compared: a country as upper-case ISO alpha-2, else a province.

    Two ASCII letters are taken as a country ("us" → "US"), so a US state must not be
    written as its two-letter code in a region table.
    """
    text = region.strip()
    if len(text) == 2 and text.isascii() and text.isalpha():
        return text.upper()
    return normalise_province(text)


def locate(country: str, province: str) -> Point | None:
    """The point we measure from: the province capital in China, else the country's.

    None when we know neither, so callers can rank the place last instead of guessing.
    """
    country = country.strip().upper()
    short = normalise_province(province)
    if country in ("", "CN", "HK", "MO", "TW") and short in PROVINCE_CAPITALS:
        _, lat, lon = PROVINCE_CAPITALS[short]
        return (lat, lon)
    return COUNTRY_POINTS.get(country)


def distance_km(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


_ADDRESS = re.compile(
    r"^\s*(?P<province>北京市|上海市|天津市|重庆市|北京|上海|天津|重庆"
    r"|.{2,3}?特别行政区|.{2,9}?自治区|.{2,4}?省)?"
    r"(?P<city>.{1,9}?(?:自治州|地区|盟|市))?"
    r"(?P<district>.{1,9}?(?:区|县|旗|市))?"
    r"(?P<rest>.*)$"
)
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")


def split_address(text: str) -> tuple[str, str, str, str]:
    """(province, city, district, street) of a Chinese address written on one line, as
    an ERP keeps it: "浙江省杭州市西湖区文三路 90 号". A municipality is its own city.
    What cannot be told apart stays in the street part."""
    match = _ADDRESS.match(text)
    if match is None:
        return "", "", "", text.strip()
    province, city, district, rest = (
        match.group(g) or "" for g in ("province", "city", "district", "rest")
    )
    if province.rstrip("市") in _MUNICIPALITIES and not city:
        city = province
    return province, city, district, rest.strip()
