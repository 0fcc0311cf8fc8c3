"""The organisation as shipped: loaded by migration 0002, editable in admin afterwards."""

# (GB/T 2260 code, ISO 3166-2:CN slug, short name, full name), in the standard report order.
PROVINCES: list[tuple[str, str, str, str]] = [
    ("110000", "bj", "北京", "北京市"),
    ("120000", "tj", "天津", "天津市"),
    ("130000", "he", "河北", "河北省"),
    ("140000", "sx", "山西", "山西省"),
    ("150000", "nm", "内蒙古", "内蒙古自治区"),
    ("210000", "ln", "辽宁", "辽宁省"),
    ("220000", "jl", "吉林", "吉林省"),
    ("230000", "hl", "黑龙江", "黑龙江省"),
    ("310000", "sh", "上海", "上海市"),
    ("320000", "js", "江苏", "江苏省"),
    ("330000", "zj", "浙江", "浙江省"),
    ("340000", "ah", "安徽", "安徽省"),
    ("350000", "fj", "福建", "福建省"),
    ("360000", "jx", "江西", "江西省"),
    ("370000", "sd", "山东", "山东省"),
    ("410000", "ha", "河南", "河南省"),
    ("420000", "hb", "湖北", "湖北省"),
    ("430000", "hn", "湖南", "湖南省"),
    ("440000", "gd", "广东", "广东省"),
    ("450000", "gx", "广西", "广西壮族自治区"),
    ("460000", "hi", "海南", "海南省"),
    ("500000", "cq", "重庆", "重庆市"),
    ("510000", "sc", "四川", "四川省"),
    ("520000", "gz", "贵州", "贵州省"),
    ("530000", "yn", "云南", "云南省"),
    ("540000", "xz", "西藏", "西藏自治区"),
    ("610000", "sn", "陕西", "陕西省"),
    ("620000", "gs", "甘肃", "甘肃省"),
    ("630000", "qh", "青海", "青海省"),
    ("640000", "nx", "宁夏", "宁夏回族自治区"),
    ("650000", "xj", "新疆", "新疆维吾尔自治区"),
]

# (unit code, name, kind)
NATIONAL_UNITS: list[tuple[str, str, str]] = [
    ("hq_service", "集团客户服务部", "hq_service"),
    ("hq_business", "集团政企客户事业部", "hq_business"),
    ("operator", "新视通运营单位", "operator"),
]

# (team code, name, kind, unit code)
NATIONAL_TEAMS: list[tuple[str, str, str, str]] = [
    ("hq_service", "集团客户服务部", "hq_service", "hq_service"),
    ("hq_business", "集团政企客户事业部", "hq_business", "hq_business"),
    ("knowledge", "运营单位知识库组", "knowledge", "operator"),
    ("hotline", "新视通语音客服(4009208566)", "hotline", "operator"),
    ("online", "新视通在线客服", "online", "operator"),
]


def province_unit_code(slug: str) -> str:
    return f"branch_{slug}"


def desk_team_code(slug: str) -> str:
    return f"desk_{slug}"


def am_team_code(slug: str) -> str:
    return f"am_{slug}"
