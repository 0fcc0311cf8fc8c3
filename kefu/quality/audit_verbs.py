from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "quality.sampled": _("抽取质检"),
        "quality.scored": _("质检评分"),
        "quality.acknowledged": _("坐席确认质检结果"),
        "quality.appealed": _("坐席申诉"),
        "quality.decided": _("申诉裁定"),
        "quality.weight_set": _("修改评分项分值"),
        "quality.samples_set": _("修改抽检数量"),
    }
)
