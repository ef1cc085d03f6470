"""Buyers and addresses for generated orders, and how Douyin hides them on the wire.

Douyin sends a receiver three ways (platform-apis.md §6.3): masked in `post_receiver`,
`post_tel` and `post_addr.detail` (and again in the `mask_*` fields), and as ciphertext
in `encrypt_post_receiver`, `encrypt_post_tel` and `post_addr.encrypt_detail`, which
only `order.batchDecrypt` turns back into clear text. The ciphertexts here are shaped
like the platform's (`$…$…$1$$` phone, `~…~…~1~~` name, `#…#…#1##` address: a search
index that is the same for the same clear text, then an opaque part); what is inside
them is this emulator's own and means nothing to a client.

Region ids are the national administrative division codes Douyin uses for
`post_addr.province/city/town/street.id`.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Receiver",
    "cipher",
    "mask_detail",
    "mask_name",
    "mask_tel",
    "random_receiver",
    "receiver_from",
]

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱")
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰")
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "186", "188")

# (province, id), (city, id), (district, id), (street, id), road
Region = tuple[str, str]
Place = tuple[Region, Region, Region, Region, str]
PLACES: tuple[Place, ...] = (
    (("上海市", "31"), ("上海市", "310100"), ("浦东新区", "310115"),
     ("花木街道", "310115009"), "世纪大道"),
    (("北京市", "11"), ("北京市", "110100"), ("朝阳区", "110105"),
     ("建外街道", "110105001"), "建国路"),
    (("广东省", "44"), ("深圳市", "440300"), ("南山区", "440305"),
     ("粤海街道", "440305007"), "科技园南路"),
    (("广东省", "44"), ("广州市", "440100"), ("天河区", "440106"),
     ("天河南街道", "440106001"), "体育西路"),
    (("浙江省", "33"), ("杭州市", "330100"), ("西湖区", "330106"),
     ("文新街道", "330106011"), "文三路"),
    (("江苏省", "32"), ("南京市", "320100"), ("鼓楼区", "320106"),
     ("宁海路街道", "320106003"), "中山北路"),
    (("四川省", "51"), ("成都市", "510100"), ("武侯区", "510107"),
     ("玉林街道", "510107008"), "人民南路"),
)  # fmt: skip


@dataclass(frozen=True)
class Receiver:
    """Who and where a parcel goes, in clear text."""

    name: str
    tel: str
    province: tuple[str, str]
    city: tuple[str, str]
    town: tuple[str, str]
    street: tuple[str, str]
    detail: str

    def as_dict(self) -> dict[str, str]:
        """Clear text for snapshots."""
        return {
            "name": self.name,
            "mobile": self.tel,
            "province": self.province[0],
            "city": self.city[0],
            "district": self.town[0],
            "street": self.street[0],
            "detail": self.detail,
        }


def random_receiver(rng: random.Random) -> Receiver:
    """A plausible mainland receiver."""
    province, city, town, street, road = rng.choice(PLACES)
    return Receiver(
        name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        tel=rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
        province=province,
        city=city,
        town=town,
        street=street,
        detail=f"{road}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(101, 2808)}室",
    )


def _region(known: Mapping[str, str], name: str) -> tuple[str, str]:
    return (name, known.get(name, "0"))


def receiver_from(spec: Mapping[str, Any], rng: random.Random) -> Receiver:
    """A receiver from `{"name", "mobile"|"phone"|"tel", "province", "city", "district"|
    "town", "street", "detail"|"address"}`; what is left out is invented."""
    base = random_receiver(rng)
    ids = {n: i for place in PLACES for n, i in place[:4]}
    province = spec.get("province")
    city, town = spec.get("city"), spec.get("district") or spec.get("town")
    street = spec.get("street")
    return Receiver(
        name=str(spec.get("name") or base.name),
        tel=str(spec.get("mobile") or spec.get("phone") or spec.get("tel") or base.tel),
        province=_region(ids, str(province)) if province else base.province,
        city=_region(ids, str(city)) if city else base.city,
        town=_region(ids, str(town)) if town else base.town,
        street=_region(ids, str(street)) if street else base.street,
        detail=str(spec.get("detail") or spec.get("address") or base.detail),
    )


def mask_name(name: str) -> str:
    """王伟 → 王*."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_tel(tel: str) -> str:
    """13812345678 → 138****5678."""
    return tel[:3] + "****" + tel[-4:] if len(tel) >= 7 else "*" * len(tel)


def mask_detail(detail: str) -> str:
    """Keeps the road, hides the house and room numbers."""
    return detail[:4] + "****" if len(detail) > 4 else "****"


def cipher(kind: str, clear: str, rng: random.Random) -> str:
    """A ciphertext for `clear`; kind is "tel" ($), "name" (~) or "addr" (#)."""
    mark = {"tel": "$", "name": "~", "addr": "#"}[kind]
    index = base64.b64encode(hashlib.sha256(clear.encode()).digest()[:9]).decode()
    body = base64.b64encode(rng.randbytes(48)).decode()
    return f"{mark}{index}{mark}{body}{mark}1{mark}{mark}"
