"""Plausible buyers and addresses, Chinese and Western, for generated sandbox orders.

The data is invented; it exists so demos and load tests exercise non-ASCII names,
different address layouts and phone formats the way a cross-border shop sees them.
"""

from __future__ import annotations

import random
import unicodedata

from orderhub.sandbox.shopify.common import Json

__all__ = ["random_person"]

CN_SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱"]
CN_GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰"]
CN_PLACES = [
    ("Shanghai", "上海市", "浦东新区", "世纪大道", "200120"),
    ("Beijing", "北京市", "朝阳区", "建国路", "100022"),
    ("Guangdong", "深圳市", "南山区", "科技园南路", "518057"),
    ("Guangdong", "广州市", "天河区", "体育西路", "510620"),
    ("Zhejiang", "杭州市", "西湖区", "文三路", "310012"),
    ("Jiangsu", "南京市", "鼓楼区", "中山北路", "210008"),
    ("Sichuan", "成都市", "武侯区", "人民南路", "610041"),
    ("Hubei", "武汉市", "洪山区", "珞喻路", "430074"),
]
WEST_FIRST = ["Emma", "Liam", "Olivia", "Noah", "Sophie", "Lukas", "Chloé", "James", "Mia", "Ben"]
WEST_LAST = ["Smith", "Johnson", "Müller", "Brown", "Schmidt", "Martin", "O'Brien", "García"]
# Mobile number blocks in use in mainland China (others, e.g. 154 or 194, are unassigned).
CN_MOBILE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "188",
)

WEST_PLACES = [
    ("United States", "US", "New York", "NY", "10001", "W 34th St", "+1 212 555 {:04d}"),
    ("United States", "US", "Austin", "TX", "78701", "Congress Ave", "+1 512 555 {:04d}"),
    ("United Kingdom", "GB", "London", "ENG", "EC1A 1BB", "King Edward St", "+44 20 7946 {:04d}"),
    ("Germany", "DE", "Berlin", "BE", "10115", "Invalidenstraße", "+49 30 901820{:02d}"),
    ("Canada", "CA", "Toronto", "ON", "M5V 2T6", "King St W", "+1 416 555 {:04d}"),
    ("Australia", "AU", "Sydney", "NSW", "2000", "George St", "+61 2 9555 {:04d}"),
]


def _chinese(rng: random.Random) -> tuple[Json, Json]:
    last, first = rng.choice(CN_SURNAMES), rng.choice(CN_GIVEN)
    province, city, district, street, postcode = rng.choice(CN_PLACES)
    phone = f"+86 {rng.choice(CN_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
    customer = {
        "first_name": first,
        "last_name": last,
        "email": f"buyer{rng.randrange(10**6):06d}@example.cn",
        "phone": phone,
    }
    address = {
        "first_name": first,
        "last_name": last,
        "address1": f"{district}{street}{rng.randint(1, 999)}号",
        "address2": f"{rng.randint(1, 30)}栋{rng.randint(101, 2808)}室",
        "city": city,
        "province": province,
        "zip": postcode,
        "country": "China",
        "country_code": "CN",
        "phone": phone,
    }
    return customer, address


def _western(rng: random.Random) -> tuple[Json, Json]:
    first, last = rng.choice(WEST_FIRST), rng.choice(WEST_LAST)
    country, code, city, province, postcode, street, phone_fmt = rng.choice(WEST_PLACES)
    phone = phone_fmt.format(rng.randrange(100 if "{:02d}" in phone_fmt else 10_000))
    plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    local = plain.lower().replace("'", "")
    customer = {
        "first_name": first,
        "last_name": last,
        "email": f"{local}{rng.randrange(1000)}@example.com",
        "phone": phone,
    }
    address = {
        "first_name": first,
        "last_name": last,
        "address1": f"{rng.randint(1, 999)} {street}",
        "address2": rng.choice([None, f"Apt {rng.randint(1, 40)}"]),
        "city": city,
        "province": province,
        "province_code": province,
        "zip": postcode,
        "country": country,
        "country_code": code,
        "phone": phone,
    }
    return customer, address


def random_person(rng: random.Random) -> tuple[Json, Json]:
    """(customer, shipping address): about half Chinese, half Western."""
    return _chinese(rng) if rng.random() < 0.5 else _western(rng)
