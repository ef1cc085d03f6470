"""Invented Chinese receivers, and the masked and encrypted forms JOS sends them in.

`jingdong.pop.order.enSearch` is the encrypted-PII search: name, phones and full address
come masked in the clear fields and whole only as ciphertext in the `encrypt_*` fields.
The mask pattern and the ciphertext format are UNCONFIRMED; a client must treat both as
opaque and decrypt through the decrypt call.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Receiver", "ciphertext", "mask_address", "mask_name", "mask_phone", "receiver_from"]

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱")
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰")
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "186", "188")

# (province, province id, city, county, town, street). Province ids are JD's area ids as
# integrators list them; the city, county and town ids below are invented.
PLACES = (
    ("上海", "2", "上海市", "浦东新区", "张江镇", "世纪大道"),
    ("北京", "1", "北京市", "朝阳区", "建外街道", "建国路"),
    ("广东", "19", "深圳市", "南山区", "粤海街道", "科技园南路"),
    ("广东", "19", "广州市", "天河区", "石牌街道", "体育西路"),
    ("浙江", "15", "杭州市", "西湖区", "文新街道", "文三路"),
    ("江苏", "12", "南京市", "鼓楼区", "湖南路街道", "中山北路"),
    ("四川", "22", "成都市", "武侯区", "浆洗街街道", "人民南路"),
    ("湖北", "17", "武汉市", "洪山区", "珞南街道", "珞喻路"),
)


@dataclass(frozen=True)
class Receiver:
    """A consignee in the clear, as the merchant sees it after decryption."""

    name: str
    mobile: str
    telephone: str
    province: str
    city: str
    county: str
    town: str
    detail: str
    province_id: str
    city_id: str
    county_id: str
    town_id: str

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.county}{self.town}{self.detail}"

    def clear(self) -> dict[str, str]:
        """Name, phones and address in the clear."""
        return {
            "name": self.name,
            "mobile": self.mobile,
            "telephone": self.telephone,
            "province": self.province,
            "city": self.city,
            "county": self.county,
            "town": self.town,
            "detail": self.detail,
            "full_address": self.full_address,
        }


def _random_receiver(rng: random.Random) -> Receiver:
    index = rng.randrange(len(PLACES))
    province, province_id, city, county, town, street = PLACES[index]
    mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
    detail = (
        f"{street}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋{rng.randrange(101, 2999)}室"
    )
    return Receiver(
        name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        mobile=mobile,
        telephone=mobile,
        province=province,
        city=city,
        county=county,
        town=town,
        detail=detail,
        province_id=province_id,
        city_id=str(2800 + index * 7),
        county_id=str(51000 + index * 31),
        town_id=str(60000 + index * 101),
    )


def receiver_from(spec: Mapping[str, Any] | None, rng: random.Random) -> Receiver:
    """The receiver of a placed order: `spec` over a random one.

    Keys: name, mobile, telephone, province, city, district (or county), town, address
    (the detail after the town), province_id, city_id, county_id, town_id.
    """
    base = _random_receiver(rng)
    if not spec:
        return base
    mobile = str(spec.get("mobile") or spec.get("phone") or base.mobile)
    return Receiver(
        name=str(spec.get("name") or base.name),
        mobile=mobile,
        telephone=str(spec.get("telephone") or mobile),
        province=str(spec.get("province") or base.province),
        city=str(spec.get("city") or base.city),
        county=str(spec.get("district") or spec.get("county") or base.county),
        town=str(spec.get("town") or ""),
        detail=str(spec.get("address") or spec.get("detail") or base.detail),
        province_id=str(spec.get("province_id") or base.province_id),
        city_id=str(spec.get("city_id") or base.city_id),
        county_id=str(spec.get("county_id") or base.county_id),
        town_id=str(spec.get("town_id") or "0"),
    )


def mask_name(name: str) -> str:
    """First character kept: 张伟 → 张*."""
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    """First three and last four digits kept: 13812345678 → 138****5678."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_address(receiver: Receiver) -> str:
    """The area in the clear, the street detail hidden."""
    return f"{receiver.province}{receiver.city}{receiver.county}{receiver.town}****"


def ciphertext(rng: random.Random) -> str:
    """An opaque token shaped like JD's TDE ciphertext (`~…~1~`); the format is UNCONFIRMED."""
    raw = bytes(rng.randrange(256) for _ in range(48))
    return "~" + base64.b64encode(raw).decode() + "~1~"
