"""惠企政策 and 融资对接: tell an enterprise which policies and financing products fit it, and why.

Pure, database-free core: matching (eligibility against a profile, with the reasons) and
credit_code (the 统一社会信用代码 checksum). The facets below are fixed lists, stored by code.
"""

INDUSTRIES: dict[str, str] = {
    "manufacturing": "制造业",
    "appliances": "家电",
    "robotics": "机器人及智能装备",
    "furniture": "家具",
    "food": "食品",
    "retail": "批发零售",
    "software": "软件和信息服务",
    "hospitality": "餐饮住宿",
    "construction": "建筑业",
    "agriculture": "农业",
    "other": "其他",
}
SIZES: dict[str, str] = {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"}
TAGS: dict[str, str] = {
    "high_tech": "高新技术企业",
    "specialised": "专精特新",
    "above_scale": "规上企业",
    "foreign_trade": "外贸企业",
    "startup": "初创企业",
    "tech_sme": "科技型中小企业",
}
STATUS_LABELS: dict[str, str] = {"draft": "草稿", "published": "已发布", "retired": "已下架"}
