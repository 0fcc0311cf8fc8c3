"""The scorecard: the numbered rules of 第五条 (hotline) and 第六条 (online), weights summing to 100 each."""

from django.db import migrations

ITEMS = [
    ("5.1", "按服务规范用语应答，多用礼貌用语，严禁服务忌语", "hotline", 20),
    ("5.2", "答复信息精确、迅速，口径统一", "hotline", 20),
    ("5.3", "耐心解释，无反问、质问、不耐烦、斥责、斗气，不辱骂、责怪、顶撞客户", "hotline", 25),
    ("5.4", "等客户表述完再回答，无答非所问", "hotline", 10),
    ("5.5", "不能立即回答的问题与客户核对所记录的问题", "hotline", 15),
    ("5.6", "客户无其他问题后结束对话并致谢", "hotline", 10),
    ("6.1", "按服务规范用语应答，多用礼貌用语，严禁服务忌语", "online", 15),
    ("6.2", "答复精确、迅速、口径统一，避免口语化答复", "online", 15),
    ("6.3", "耐心解释，无反问、质问、不耐烦、斥责、斗气，不辱骂、责怪、顶撞访客", "online", 20),
    ("6.4", "协助访客表述完问题再回答，无答非所问", "online", 10),
    ("6.5", "访客问题较多时先确认问题再回答", "online", 10),
    ("6.6", "不能立即回答的问题与客户核对所记录的问题", "online", 15),
    ("6.7", "访客未咨询时感谢使用并欢迎继续使用", "online", 5),
    ("6.8", "访客无其他问题后方可关闭对话", "online", 10),
]


def load(apps, schema_editor):
    Item = apps.get_model("quality", "ScoreItem")
    Setting = apps.get_model("quality", "SamplingSetting")
    for i, (code, title, channel, weight) in enumerate(ITEMS):
        Item.objects.get_or_create(code=code, defaults={"title": title, "channel": channel, "weight": weight, "order": i})
    if not Setting.objects.exists():
        Setting.objects.create(samples_per_agent=3)


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
