"""Demo customers: 3-6 enterprise customers per province with contacts and phones.

Names are built from parts (city, kind of organisation, trade), the same for a
given seed; each customer is created through the services by the province's
demo account manager ``am_<slug>``, so the demo has the audit trail of real
use. Idempotent: a province that already has its demo customers is left alone.
``ctx.shared["customers"]`` maps a province slug to its customers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from kefu.org.access import actor_for
from kefu.org.data import PROVINCES
from kefu.org.models import Province, User

from . import services
from .models import Customer

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext

# slug -> [(city, landline area code)]: the capital first.
CITIES: dict[str, list[tuple[str, str]]] = {
    "bj": [("北京", "010")],
    "tj": [("天津", "022")],
    "he": [("石家庄", "0311"), ("保定", "0312"), ("唐山", "0315")],
    "sx": [("太原", "0351"), ("大同", "0352")],
    "nm": [("呼和浩特", "0471"), ("包头", "0472")],
    "ln": [("沈阳", "024"), ("大连", "0411")],
    "jl": [("长春", "0431"), ("吉林", "0432")],
    "hl": [("哈尔滨", "0451"), ("大庆", "0459")],
    "sh": [("上海", "021")],
    "js": [("南京", "025"), ("苏州", "0512"), ("无锡", "0510")],
    "zj": [("杭州", "0571"), ("宁波", "0574")],
    "ah": [("合肥", "0551"), ("芜湖", "0553")],
    "fj": [("福州", "0591"), ("厦门", "0592")],
    "jx": [("南昌", "0791"), ("赣州", "0797")],
    "sd": [("济南", "0531"), ("青岛", "0532"), ("烟台", "0535")],
    "ha": [("郑州", "0371"), ("洛阳", "0379")],
    "hb": [("武汉", "027"), ("宜昌", "0717")],
    "hn": [("长沙", "0731"), ("岳阳", "0730")],
    "gd": [("广州", "020"), ("深圳", "0755"), ("佛山", "0757")],
    "gx": [("南宁", "0771"), ("桂林", "0773")],
    "hi": [("海口", "0898"), ("三亚", "0898")],
    "cq": [("重庆", "023")],
    "sc": [("成都", "028"), ("绵阳", "0816")],
    "gz": [("贵阳", "0851"), ("遵义", "0851")],
    "yn": [("昆明", "0871"), ("大理", "0872")],
    "xz": [("拉萨", "0891")],
    "sn": [("西安", "029"), ("宝鸡", "0917")],
    "gs": [("兰州", "0931"), ("天水", "0938")],
    "qh": [("西宁", "0971")],
    "nx": [("银川", "0951")],
    "xj": [("乌鲁木齐", "0991"), ("克拉玛依", "0990")],
}

BUREAUS = [
    "应急管理局",
    "教育局",
    "卫生健康委员会",
    "交通运输局",
    "市场监督管理局",
    "水务局",
    "自然资源局",
    "人力资源和社会保障局",
]
HOSPITALS = ["第一人民医院", "中心医院", "中医院", "妇幼保健院", "第二人民医院"]
SCHOOLS = ["第一中学", "职业技术学院", "实验小学", "师范学校", "外国语学校"]
BRANDS = ["恒信", "华通", "瑞祥", "鼎盛", "宏达", "新远", "中科", "博远", "海纳", "正泰", "联创", "天成"]
TRADES = [
    ("科技", "enterprise"),
    ("物流", "enterprise"),
    ("能源", "enterprise"),
    ("建设集团", "enterprise"),
    ("农商银行", "finance"),
    ("燃气", "public_service"),
    ("水务集团", "public_service"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红晓东海燕"
TITLES = {
    "government": ["办公室主任", "信息中心主任", "应急值班员", "科长"],
    "healthcare": ["信息科科长", "副院长", "网络管理员", "医务科干事"],
    "education": ["信息中心主任", "教务处主任", "网络管理员", "校办主任"],
    "enterprise": ["IT 经理", "行政主管", "总经理助理", "网络工程师"],
    "finance": ["科技部经理", "办公室主任", "运维工程师"],
    "public_service": ["调度中心主任", "信息科科长", "行政专员"],
}


def _person(rng: Any) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: Any) -> str:
    return (
        rng.choice(["139", "138", "136", "158", "188", "135", "187", "150"]) + f"{rng.randrange(10**8):08d}"
    )


def _landline(rng: Any, area: str) -> str:
    """A number in an assigned range of ``area`` (phonenumbers knows whether its locals have 7 or 8 digits)."""
    import phonenumbers

    number = ""
    for _ in range(40):
        digits = 8 if len(area) == 3 or rng.random() < 0.7 else 7
        number = f"{area}-{rng.randrange(2, 10)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number.replace("-", ""), "CN")):
            break
    return number


def _customer_specs(rng: Any, slug: str, count: int) -> list[tuple[str, str, tuple[str, str]]]:
    """(name, industry, city) for ``count`` customers: a bureau, a hospital, a school, then companies."""
    cities = CITIES[slug]
    suffix = "" if slug in ("bj", "tj", "sh", "cq") else "市"
    makers = [
        lambda city: (f"{city}{suffix}{rng.choice(BUREAUS)}", "government"),
        lambda city: (f"{city}{suffix}{rng.choice(HOSPITALS)}", "healthcare"),
        lambda city: (f"{city}{rng.choice(SCHOOLS)}", "education"),
    ]
    specs: list[tuple[str, str, tuple[str, str]]] = []
    seen: set[str] = set()
    while len(specs) < count:
        city = cities[len(specs) % len(cities)]
        if len(specs) < len(makers):
            name, industry = makers[len(specs)](city[0])
        else:
            trade, industry = rng.choice(TRADES)
            name = f"{city[0]}{rng.choice(BRANDS)}{trade}有限公司"
        if name not in seen:
            seen.add(name)
            specs.append((name, industry, city))
    return specs


@transaction.atomic
def load(ctx: DemoContext) -> None:
    rng = ctx.rng
    shared: dict[str, list[Customer]] = {}
    total = len(PROVINCES)
    for i, (code, slug, _name, _full) in enumerate(PROVINCES, start=1):
        province = Province.objects.get(slug=slug)
        manager = User.objects.get(username=f"am_{slug}")
        actor = actor_for(manager)
        prefix = f"XST{code[:2]}"
        existing = list(
            Customer.objects.unscoped("demo data is idempotent")
            .filter(province=province, account_number__startswith=prefix)
            .order_by("account_number")
        )
        if existing:
            # Loaded before: keep what is there (a re-run must not add a second set).
            shared[slug] = existing
            ctx.progress("customers", i, total)
            continue
        count = (3 + rng.randrange(4)) * max(1, ctx.scale)
        shared[slug] = []
        for n, (name, industry, (_city, area)) in enumerate(_customer_specs(rng, slug, count), start=1):
            customer = services.customer_create(
                actor=actor,
                name=name,
                account_number=f"{prefix}{n:05d}",
                province=province,
                account_manager=manager,
                industry=industry,
                notes=rng.choice(["", "", "会议室终端 12 台", "重点保障客户", "年度框架合同客户"]),
            )
            for contact_name, title, email, is_primary, phones in _contact_specs(
                rng, industry, area, first=(slug == "bj" and n == 1)
            ):
                services.contact_add(
                    actor=actor,
                    customer_id=customer.pk,
                    name=contact_name,
                    title=title,
                    email=email,
                    is_primary=is_primary,
                    phones=phones,
                )
            shared[slug].append(customer)
        ctx.progress("customers", i, total)
    ctx.shared["customers"] = shared


def _contact_specs(
    rng: Any, industry: str, area: str, *, first: bool
) -> list[tuple[str, str, str, bool, list[str]]]:
    out = []
    for k in range(rng.choice((1, 2, 2, 3))):
        phones = [_mobile(rng)]
        if rng.random() < 0.5:
            phones.append(_landline(rng, area))
        out.append(
            (
                _person(rng),
                rng.choice(TITLES[industry]),
                f"contact{rng.randrange(10**6):06d}@demo.example.cn",
                k == 0,
                phones,
            )
        )
    if first:
        # A fixed caller for walkthroughs and browser tests: the numbers from the issue.
        out[0] = (out[0][0], out[0][1], out[0][2], True, ["+86 138-0013-8000", "010-65528899"])
    return out
