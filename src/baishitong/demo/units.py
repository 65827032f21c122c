"""Reference organisational units for a Shunde (顺德区) deployment.

``UNITS`` is a flat list of dicts::

    {"code": str, "name": str, "kind": str, "parent": str | None,
     "phone": str | None, "region_code": str | None}

Kinds:

* ``centre``     – the 12345 dispatch centre (code ``ZX``)
* ``department`` – district departments, parent ``None``
* ``town``       – the 10 towns/streets, code = lowercase pinyin,
                   ``region_code`` = gazetteer town code
* ``community``  – the villages/communities of the gazetteer,
                   code = gazetteer community code, parent = town unit code,
                   ``region_code`` = gazetteer community code
* ``utility``    – public utilities (power, water, gas, telecom)

Department codes are short uppercase pinyin initials (see ``DEPARTMENTS``).
Phone numbers are fictional placeholders in the 0757 area.
"""

from __future__ import annotations

import json
from importlib import resources

CENTRE_CODE = "ZX"

# (code, name, phone) – codes documented inline.
DEPARTMENTS: list[tuple[str, str, str]] = [
    ("GAJ", "佛山市公安局顺德分局", "0757-22801001"),          # 公安局
    ("JJDD", "佛山市公安局顺德分局交通警察大队", "0757-22801002"),  # 交警大队
    ("SJJ", "顺德区市场监督管理局", "0757-22801003"),           # 市场监管
    ("ZJSL", "顺德区住房城乡建设和水利局", "0757-22801004"),     # 住建水利
    ("CGZF", "顺德区城市管理和综合执法局", "0757-22801005"),     # 城管执法
    ("RSJ", "顺德区人力资源和社会保障局", "0757-22801006"),      # 人社
    ("JYJ", "顺德区教育局", "0757-22801007"),                    # 教育
    ("WJJ", "顺德区卫生健康局", "0757-22801008"),                # 卫健
    ("STHJ", "佛山市生态环境局顺德分局", "0757-22801009"),       # 生态环境
    ("JTJ", "顺德区交通运输局", "0757-22801010"),                # 交通运输
    ("ZRZY", "佛山市自然资源局顺德分局", "0757-22801011"),       # 自然资源
    ("MZJ", "顺德区民政局", "0757-22801012"),                    # 民政
    ("SFJ", "顺德区司法局", "0757-22801013"),                    # 司法
    ("CZJ", "顺德区财政局", "0757-22801014"),                    # 财政
    ("SWJ", "国家税务总局佛山市顺德区税务局", "0757-22801015"),  # 税务
    ("YBJ", "顺德区医疗保障局", "0757-22801016"),                # 医保
    ("TYJR", "顺德区退役军人事务局", "0757-22801017"),           # 退役军人
    ("YJJ", "顺德区应急管理局", "0757-22801018"),                # 应急管理
    ("WGLT", "顺德区文化广电旅游体育局", "0757-22801019"),       # 文广旅体
    ("NYJ", "顺德区农业农村局", "0757-22801020"),                # 农业农村
    ("FGJ", "顺德区发展和改革局", "0757-22801021"),              # 发改（经济促进）
    ("SWUJ", "顺德区商务局", "0757-22801022"),                   # 商务
    ("KJJ", "顺德区科学技术局", "0757-22801023"),                # 科技
    ("ZSJ", "顺德区政务服务数据管理局", "0757-22801024"),        # 政务服务数据
    ("GJJ", "佛山市住房公积金管理中心顺德分中心", "0757-22801025"),  # 公积金
    ("CL", "顺德区残疾人联合会", "0757-22801026"),               # 残联
    ("ZGH", "顺德区总工会", "0757-22801027"),                    # 总工会
    ("FL", "顺德区妇女联合会", "0757-22801028"),                 # 妇联
    ("XFDD", "顺德区消防救援大队", "0757-22801029"),             # 消防
    ("QXJ", "顺德区气象局", "0757-22801030"),                    # 气象
    ("TJJ", "顺德区统计局", "0757-22801031"),                    # 统计
    ("SJIJ", "顺德区审计局", "0757-22801032"),                   # 审计
    ("XFJ", "顺德区信访局", "0757-22801033"),                    # 信访
    ("GZJ", "顺德区国有资产监督管理局", "0757-22801034"),        # 国资
    ("GXJ", "顺德区工业和信息化局", "0757-22801035"),            # 工信
]

# gazetteer town code -> unit code (lowercase pinyin)
TOWN_CODES: dict[str, str] = {
    "440606005": "daliang",
    "440606006": "ronggui",
    "440606003": "lunjiao",
    "440606004": "leliu",
    "440606101": "chencun",
    "440606102": "beijiao",
    "440606103": "lecong",
    "440606104": "longjiang",
    "440606105": "xingtan",
    "440606106": "junan",
}

UTILITIES: list[tuple[str, str, str]] = [
    ("GD", "广东电网有限责任公司佛山顺德供电局", "95598"),
    ("GS", "佛山市顺德区供水有限公司", "0757-22802001"),
    ("RQ", "佛山市顺德港华燃气有限公司", "0757-22802002"),
    ("DX", "中国电信顺德分公司", "10000"),
    ("YD", "中国移动顺德分公司", "10086"),
]


def load_gazetteer() -> dict:
    """Return the bundled Shunde gazetteer (read-only)."""
    text = resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8")
    return json.loads(text)


def _build_units() -> list[dict]:
    units: list[dict] = [
        {
            "code": CENTRE_CODE,
            "name": "顺德区12345政务服务便民热线中心",
            "kind": "centre",
            "parent": None,
            "phone": "12345",
            "region_code": "440606",
        }
    ]
    for code, name, phone in DEPARTMENTS:
        units.append({"code": code, "name": name, "kind": "department",
                      "parent": None, "phone": phone, "region_code": None})
    gaz = load_gazetteer()
    for idx, town in enumerate(gaz["towns"]):
        tcode = TOWN_CODES[town["code"]]
        units.append({
            "code": tcode,
            "name": town["name"],
            "kind": "town",
            "parent": None,
            "phone": f"0757-2281{idx:04d}",
            "region_code": town["code"],
        })
    for town in gaz["towns"]:
        tcode = TOWN_CODES[town["code"]]
        for c in town["communities"]:
            units.append({
                "code": c["code"],
                "name": c["short"],
                "kind": "community",
                "parent": tcode,
                "phone": None,
                "region_code": c["code"],
            })
    for code, name, phone in UTILITIES:
        units.append({"code": code, "name": name, "kind": "utility",
                      "parent": None, "phone": phone, "region_code": None})
    return units


UNITS: list[dict] = _build_units()
UNITS_BY_CODE: dict[str, dict] = {u["code"]: u for u in UNITS}


def town_unit_code(region_code: str) -> str:
    """Map a gazetteer town code to its town unit code."""
    return TOWN_CODES[region_code]
