from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "kb.article_created": _("新建知识"),
        "kb.article_imported_published": _("导入为已发布"),
        "kb.revision_created": _("修改知识(新版本)"),
        "kb.revision_submitted": _("提交审核"),
        "kb.revision_checked": _("运营单位审核通过"),
        "kb.revision_confirmed": _("政企事业部确认"),
        "kb.revision_scheduled": _("集团客服部审核通过，定时发布"),
        "kb.revision_published": _("发布"),
        "kb.revision_returned": _("退回修改"),
        "kb.revision_superseded": _("草稿被新稿替代"),
        "kb.revision_retired": _("被新版本替代"),
        "kb.receipt_loaded": _("省分加载回执"),
        "kb.receipts_reminded": _("催办加载"),
        "kb.feedback_created": _("反馈知识问题"),
        "kb.feedback_handled": _("处理知识反馈"),
        "kb.problem_found": _("挖掘发现普遍性问题"),
        "kb.problem_refreshed": _("普遍性问题数据更新"),
        "kb.problem_drafted": _("据普遍性问题起草"),
        "kb.problem_dismissed": _("忽略普遍性问题"),
        "kb.imported": _("批量导入知识"),
        "kb.synonyms_saved": _("保存同义词组"),
        "kb.synonyms_deleted": _("删除同义词组"),
        "kb.synonyms_imported": _("导入同义词表"),
        "kb.similar_added": _("添加相似问法"),
        "kb.similar_proposed": _("推荐相似问法(引用工单)"),
        "kb.similar_decided": _("处理相似问法"),
    }
)
