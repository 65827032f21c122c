"""Three-level problem-type taxonomy and default lead-unit catalogue.

``CATEGORIES`` – nested list::

    [{"code": "01", "name": "城乡建设", "children": [
        {"code": "0101", "name": "市政设施", "children": [
            {"code": "010101", "name": "路灯", "children": []}, ...]}, ...]}, ...]

Codes are hierarchical: two digits per level.

``DEFAULT_LEAD`` – ``{code_prefix: unit_code | "@town"}``.  The longest
matching prefix of a leaf code wins (see :func:`default_lead`).  ``"@town"``
means "the town/street unit where the request is located".
"""

from __future__ import annotations

TOWN = "@town"

# (name, lead|None, children).  Leaves may be "name" or ("name", lead).
_SPEC: list[tuple] = [
    ("城乡建设", TOWN, [
        ("市政设施", TOWN, ["路灯", "道路破损", "井盖缺失", "排水内涝", "公共厕所", "桥梁隧道"]),
        ("住房管理", "ZJSL", [("物业管理", TOWN), "房屋质量", "商品房交付", "电梯安全",
                              "住房保障", ("老旧小区改造", TOWN)]),
        ("城市管理", "CGZF", ["违法建设", "占道经营", "户外广告", "余泥渣土", "共享单车停放"]),
        ("水电气供应", "GS", [("停水", "GS"), ("水质水压", "GS"), ("停电", "GD"),
                              ("电费电表", "GD"), ("燃气供应", "RQ"), ("通信线路", "DX")]),
        ("园林绿化", TOWN, ["树木修剪", "绿地破坏", "公园管理"]),
        ("环境卫生", TOWN, ["垃圾清运", "垃圾分类", "道路保洁"]),
        ("规划国土", "ZRZY", ["规划许可", "不动产登记", "土地征收"]),
    ]),
    ("劳动和社会保障", "RSJ", [
        ("劳动关系", "RSJ", ["拖欠工资", "劳动合同", "工伤认定", "加班休假", "经济补偿"]),
        ("社会保险", "RSJ", ["养老保险", "失业保险", "社保卡", "灵活就业参保", "社保转移"]),
        ("就业创业", "RSJ", ["就业登记", "职业培训", "创业补贴", "人才补贴"]),
        ("医疗保障", "YBJ", ["医保参保", "医保报销", "异地就医", "医保缴费"]),
        ("住房公积金", "GJJ", ["公积金提取", "公积金贷款", "公积金缴存"]),
    ]),
    ("教育文体", "JYJ", [
        ("基础教育", "JYJ", ["学位申请", "积分入学", "校园安全", "教育收费", "学生资助"]),
        ("校外培训", "JYJ", ["培训机构退费", "违规办学"]),
        ("学前教育", "JYJ", ["幼儿园收费", "幼儿园学位"]),
        ("文化体育", "WGLT", ["文体场馆", "群众文体活动", "图书馆服务", "文物保护"]),
        ("广播电视", "WGLT", ["有线电视", "网络文化市场"]),
    ]),
    ("商贸旅游", "SJJ", [
        ("消费维权", "SJJ", ["预付卡退费", "商品质量", "网购纠纷", "价格欺诈", "计量缺斤短两"]),
        ("市场秩序", "SJJ", ["无证经营", "虚假广告", "商标侵权"]),
        ("旅游服务", "WGLT", ["旅行社服务", "景区管理", "导游服务"]),
        ("商贸流通", "SWUJ", ["农贸市场", "商场超市", "成品油经营"]),
    ]),
    ("环境保护", "STHJ", [
        ("大气污染", "STHJ", ["工业废气", "餐饮油烟", "焚烧垃圾"]),
        ("水污染", "STHJ", ["河涌污染", "工业废水", "黑臭水体"]),
        ("噪声污染", TOWN, [("施工噪音", "CGZF"), ("工业噪音", "STHJ"), ("社会生活噪音", TOWN),
                            ("交通噪音", "JTJ")]),
        ("固体废物", "STHJ", ["危险废物", "工业固废"]),
        ("生态保护", "STHJ", ["辐射环境", "环评审批"]),
    ]),
    ("卫生计生", "WJJ", [
        ("医疗服务", "WJJ", ["医疗纠纷", "医德医风", "挂号就诊", "院前急救"]),
        ("公共卫生", "WJJ", ["疫苗接种", "传染病防控", "病媒生物防制", "职业病防治"]),
        ("人口家庭", "WJJ", ["出生医学证明", "生育登记", "托育服务"]),
        ("药品安全", "SJJ", ["药品质量", "医疗器械", "药店经营"]),
        ("食品安全", "SJJ", ["餐饮卫生", "过期食品", "食品标签", "校园食品"]),
    ]),
    ("交通运输", "JTJ", [
        ("公共交通", "JTJ", ["公交线路", "公交服务", "地铁建设", "公交站点"]),
        ("出租网约车", "JTJ", ["出租车拒载", "网约车服务", "非法营运"]),
        ("道路交通", "JJDD", ["交通违法", "违章停车", "交通信号灯", "交通标志标线", "交通拥堵"]),
        ("道路建设", "JTJ", ["公路养护", "道路施工", "桥梁通行"]),
        ("车驾管", "JJDD", ["驾驶证业务", "机动车登记", "电动自行车上牌"]),
    ]),
    ("公安政法", "GAJ", [
        ("治安管理", "GAJ", ["治安隐患", "涉赌涉黄", "电信诈骗", "寻人求助"]),
        ("户政管理", "GAJ", ["户口迁移", "新生儿入户", "居民身份证", "居住证"]),
        ("出入境", "GAJ", ["港澳通行证", "护照办理"]),
        ("法律服务", "SFJ", ["法律援助", "人民调解", "公证服务", "社区矫正"]),
        ("安全生产", "YJJ", ["安全隐患", "危化品管理", ("消防隐患", "XFDD"), "生产事故"]),
    ]),
    ("企业服务", "FGJ", [
        ("营商环境", "FGJ", ["政策咨询", "惠企资金", "审批效率", "涉企收费"]),
        ("企业登记", "SJJ", ["商事登记", "个体工商户", "企业注销"]),
        ("税费服务", "SWJ", ["发票办理", "纳税申报", "税费优惠", "退税"]),
        ("产业发展", "GXJ", ["工业用地", "村级工业园改造", "科技项目", ("高新技术企业", "KJJ")]),
        ("外贸商务", "SWUJ", ["外贸政策", "展会服务"]),
    ]),
    ("民政社区", "MZJ", [
        ("社会救助", "MZJ", ["低保申请", "特困供养", "临时救助"]),
        ("养老服务", "MZJ", ["养老机构", "居家养老", "高龄津贴", "老年人优待"]),
        ("社区治理", TOWN, ["社区服务", "邻里纠纷", "村居选举"]),
        ("婚姻殡葬", "MZJ", ["婚姻登记", "殡葬服务"]),
        ("残疾人服务", "CL", ["残疾人证", "残疾人补贴", "无障碍设施"]),
        ("退役军人", "TYJR", ["优抚待遇", "退役安置"]),
        ("妇女儿童", "FL", ["家庭暴力", "儿童关爱"]),
    ]),
    ("农业农村", "NYJ", [
        ("农业生产", "NYJ", ["农业补贴", "动物防疫", "渔业养殖", "农药化肥"]),
        ("农村管理", TOWN, ["集体资产", "股份分红", "宅基地", "村务公开"]),
        ("农村人居环境", TOWN, ["村道维护", "农村污水", "鱼塘整治"]),
    ]),
    ("政务服务", "ZSJ", [
        ("办事服务", "ZSJ", ["办事指南", "办事效率", "窗口服务态度", "门口办"]),
        ("政务平台", "ZSJ", ["网上办事", "粤省事", "自助终端"]),
        ("信息公开", "ZSJ", ["政府信息公开", "政策解读"]),
        ("热线服务", "ZX", ["热线服务质量", "工单办理督办"]),
    ]),
    ("其他", "ZX", [
        ("气象灾害", "QXJ", ["天气预报", "台风防御", ("防汛排涝", "ZJSL")]),
        ("综合事项", "ZX", ["表扬感谢", "意见建议", "无法归类"]),
    ]),
]


def _build() -> tuple[list[dict], dict[str, str]]:
    cats: list[dict] = []
    lead: dict[str, str] = {}
    for i, (n1, l1, kids1) in enumerate(_SPEC, 1):
        c1 = f"{i:02d}"
        if l1:
            lead[c1] = l1
        node1 = {"code": c1, "name": n1, "children": []}
        for j, (n2, l2, kids2) in enumerate(kids1, 1):
            c2 = f"{c1}{j:02d}"
            if l2:
                lead[c2] = l2
            node2 = {"code": c2, "name": n2, "children": []}
            for k, leaf in enumerate(kids2, 1):
                c3 = f"{c2}{k:02d}"
                if isinstance(leaf, tuple):
                    leaf, l3 = leaf
                    lead[c3] = l3
                node2["children"].append({"code": c3, "name": leaf, "children": []})
            node1["children"].append(node2)
        cats.append(node1)
    return cats, lead


CATEGORIES, DEFAULT_LEAD = _build()

# The router predicts the level-1 category; within a level-1 area, the words of a request name the part another
# unit answers for (停水 → 水务, 公积金 → 公积金中心). Keyword rules of the default 派单目录, by level-1 prefix:
# (lead, keywords). Each lead is the default lead of some category under that prefix (tests/demo check it).
KEYWORD_LEADS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "01": [
        ("GS", ("停水", "水压", "水质", "自来水", "水表", "没水")),
        ("GD", ("停电", "电费", "电表", "供电", "跳闸")),
        ("RQ", ("燃气", "煤气", "天然气")),
        ("DX", ("宽带", "光纤", "通信线路", "网线", "电话线")),
        ("CGZF", ("违建", "违法建设", "乱搭建", "加建", "占道", "乱摆卖", "摆摊", "户外广告", "招牌", "渣土", "余泥")),
        ("ZJSL", ("电梯", "房屋质量", "交楼", "交房", "开发商", "公租房", "保障房")),
        ("ZRZY", ("不动产", "房产证", "规划许可", "征收", "征地")),
    ],
    "02": [
        ("YBJ", ("医保", "医疗保险", "异地就医", "住院报销", "门诊报销")),
        ("GJJ", ("公积金",)),
    ],
    "03": [("WGLT", ("图书馆", "文化馆", "博物馆", "体育馆", "体育场", "健身", "电视信号", "有线电视", "广播"))],
    "04": [("WGLT", ("景区", "旅游", "导游", "旅行社", "酒店"))],
    "05": [
        (TOWN, ("噪音", "噪声", "广场舞")),
        ("CGZF", ("施工噪音", "工地噪音", "夜间施工", "工地施工")),
        ("JTJ", ("交通噪音", "车辆噪音")),
    ],
    "06": [("SJJ", ("药店", "药品", "假药", "食品", "食物中毒", "过期", "餐馆卫生"))],
    "07": [("JJDD", ("违章", "违停", "乱停车", "红绿灯", "信号灯", "驾驶证", "驾照", "行驶证", "车牌"))],
    "08": [
        ("SFJ", ("法律援助", "律师", "公证", "调解")),
        ("YJJ", ("安全生产", "危化品", "危险化学品")),
        ("XFDD", ("消防", "火灾隐患", "灭火器")),
    ],
    "09": [
        ("SJJ", ("营业执照", "工商登记", "企业注册", "注册公司")),
        ("SWJ", ("发票", "纳税", "税务", "退税")),
        ("KJJ", ("高新技术企业", "高企认定")),
        ("SWUJ", ("外贸", "出口", "进口")),
    ],
    "10": [
        ("CL", ("残疾", "残联")),
        ("TYJR", ("退役军人", "退伍")),
        ("FL", ("妇女", "家暴", "家庭暴力")),
    ],
    "13": [
        ("QXJ", ("台风", "暴雨", "气象")),
        ("ZJSL", ("内涝", "水浸", "防汛")),
    ],
}

REQUIRED_LEVEL1 = ("城乡建设", "劳动和社会保障", "教育文体", "商贸旅游",
                   "环境保护", "卫生计生", "交通运输")


def iter_categories(nodes: list[dict] | None = None, parent: str | None = None):
    """Yield flat dicts {code, name, parent, level, is_leaf} depth-first."""
    for node in CATEGORIES if nodes is None else nodes:
        code = node["code"]
        yield {"code": code, "name": node["name"], "parent": parent,
               "level": len(code) // 2, "is_leaf": not node["children"]}
        yield from iter_categories(node["children"], code)


FLAT: list[dict] = list(iter_categories())
BY_CODE: dict[str, dict] = {c["code"]: c for c in FLAT}
LEAVES: list[str] = [c["code"] for c in FLAT if c["is_leaf"]]


def path_names(code: str) -> list[str]:
    """['城乡建设', '市政设施', '路灯'] for '010101'."""
    return [BY_CODE[code[:i]]["name"] for i in range(2, len(code) + 1, 2)]


def leaf_code(l1: str, l2: str, l3: str) -> str:
    """Look a leaf up by its three names; KeyError if absent."""
    for c in LEAVES:
        if path_names(c) == [l1, l2, l3]:
            return c
    raise KeyError((l1, l2, l3))


def default_lead(code: str, town_unit: str | None = None) -> str:
    """Resolve the default lead unit for a category code.

    ``"@town"`` is replaced with *town_unit* when given.
    """
    for i in range(len(code), 0, -2):
        target = DEFAULT_LEAD.get(code[:i])
        if target:
            if target == TOWN and town_unit:
                return town_unit
            return target
    return "ZX"
