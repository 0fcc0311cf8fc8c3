"""Knowledge base schema.

Articles are national data: one article, many immutable revisions. An article's
agents' page and the public FAQ both read ``Article.published_revision``: one
row, so the customer answer and the agents' answer cannot drift apart.
Loading receipts and feedback carry a province and are province-scoped.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager

from .workflow import UNDER_REVIEW, Status

STATUS_CHOICES = [
    (Status.DRAFT, _("草稿")),
    (Status.SUBMITTED, _("待运营单位审核")),
    (Status.CHECKED, _("待政企事业部确认")),
    (Status.CONFIRMED, _("待集团客服部审核发布")),
    (Status.SCHEDULED, _("已排期发布")),
    (Status.PUBLISHED, _("已发布")),
    (Status.RETURNED, _("已退回")),
    (Status.SUPERSEDED, _("已被新稿替代")),
    (Status.RETIRED, _("已被新版本替代")),
]


class Article(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    # The one revision agents and customers both read. Set only by the publish service.
    published_revision = models.OneToOneField(
        "Revision",
        verbose_name=_("现行发布版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    view_count = models.PositiveIntegerField(_("FAQ 浏览次数"), default=0)
    external_id = models.CharField(
        _("外部编号"),
        max_length=80,
        null=True,
        blank=True,
        unique=True,
        help_text=_("导入时来源系统的编号；再次导入同一编号将跳过"),
    )

    class Meta:
        verbose_name = _("知识文章")
        verbose_name_plural = _("知识文章")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"KB{self.pk:06d}" if self.pk else "KB(new)"


class Revision(models.Model):
    """One immutable version of an article's content, with its place in the approval workflow."""

    article = models.ForeignKey(
        Article, verbose_name=_("文章"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    based_on = models.ForeignKey(
        "self", verbose_name=_("基于版本"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    question = models.TextField(_("问题"))
    answer_agent = models.TextField(_("坐席答案"))
    answer_customer = models.TextField(_("客户答案"), help_text=_("公开 FAQ 显示的答案，可比坐席答案简短"))
    category_code = models.CharField(_("分类"), max_length=80, db_index=True)
    keywords = models.CharField(_("关键词"), max_length=300, blank=True, help_text=_("以空格或逗号分隔"))
    release = models.CharField(_("产品版本"), max_length=40, blank=True)
    release_date = models.DateField(_("版本上线日期"), null=True, blank=True)
    urgent = models.BooleanField(_("紧急发布"), default=False)
    urgent_reason = models.TextField(_("紧急原因"), blank=True)
    late_submission = models.BooleanField(_("晚于提前一周提交"), default=False)

    status = models.CharField(
        _("状态"), max_length=20, choices=STATUS_CHOICES, default=Status.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("编写人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    # Who sent it into review: like the author, they may not approve it (four eyes).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("运营审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("运营审核时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("事业部确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("事业部确认时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("集团审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("集团审核时间"), null=True, blank=True)
    publish_at = models.DateTimeField(_("计划发布时间"), null=True, blank=True, db_index=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("知识版本")
        verbose_name_plural = _("知识版本")
        ordering = ["article_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_revision_number_unique"),
            # One revision under review per article at a time (Wagtail's WorkflowState pattern).
            models.UniqueConstraint(
                fields=["article"], condition=Q(status__in=UNDER_REVIEW), name="kb_one_revision_under_review"
            ),
            models.UniqueConstraint(
                fields=["article"], condition=Q(status=Status.PUBLISHED), name="kb_one_published_revision"
            ),
            models.UniqueConstraint(
                fields=["article"], condition=Q(status=Status.DRAFT), name="kb_one_open_draft"
            ),
            models.CheckConstraint(
                name="kb_urgent_has_reason", condition=Q(urgent=False) | ~Q(urgent_reason="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article.code} v{self.number} {self.title}"

    @property
    def is_under_review(self) -> bool:
        return self.status in UNDER_REVIEW

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.replace("，", " ").replace(",", " ").replace("、", " ").split() if k]


class ReviewComment(models.Model):
    """What a reviewer said at a step (required when sending back)."""

    revision = models.ForeignKey(
        Revision, verbose_name=_("版本"), on_delete=models.CASCADE, related_name="comments"
    )
    action = models.CharField(_("动作"), max_length=20)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填写人"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("意见"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.revision_id} {self.action}"


class LoadReceipt(models.Model):
    """A province desk's acknowledgement that it loaded a published revision (created unloaded at publication)."""

    revision = models.ForeignKey(
        Revision, verbose_name=_("版本"), on_delete=models.CASCADE, related_name="receipts"
    )
    province = models.ForeignKey(
        "org.Province", verbose_name=_("省份"), on_delete=models.PROTECT, related_name="+"
    )
    loaded_at = models.DateTimeField(_("加载时间"), null=True, blank=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("加载人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("最近催办"), null=True, blank=True)
    reminder_count = models.PositiveIntegerField(_("催办次数"), default=0)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("加载回执")
        verbose_name_plural = _("加载回执")
        ordering = ["revision_id", "province__report_order"]
        constraints = [models.UniqueConstraint(fields=["revision", "province"], name="kb_receipt_unique")]

    def __str__(self) -> str:
        return f"{self.revision_id}@{self.province_id}"

    @property
    def is_loaded(self) -> bool:
        return self.loaded_at is not None


class Feedback(models.Model):
    """A flag on a wrong, outdated or missing answer: the operating unit's update queue (第四条)."""

    class Kind(models.TextChoices):
        WRONG = "wrong", _("答案有误")
        OUTDATED = "outdated", _("内容过时")
        UNCLEAR = "unclear", _("表述不清")
        MISSING = "missing", _("缺少知识")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        ACCEPTED = "accepted", _("已采纳")
        REJECTED = "rejected", _("不采纳")

    article = models.ForeignKey(
        Article,
        verbose_name=_("文章"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    revision = models.ForeignKey(
        Revision, verbose_name=_("版本"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    text = models.TextField(_("说明"))
    source_ref = models.CharField(_("来源"), max_length=80, blank=True, help_text=_("如工单号"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("反馈人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("反馈时间"), auto_now_add=True, db_index=True)
    state = models.CharField(
        _("处理状态"), max_length=20, choices=State.choices, default=State.OPEN, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handling_note = models.TextField(_("处理说明"), blank=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("知识反馈")
        verbose_name_plural = _("知识反馈")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class CommonProblem(models.Model):
    """A group of similar recent work orders that no published article answers (mined periodically)."""

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        DRAFTED = "drafted", _("已起草")
        DISMISSED = "dismissed", _("已忽略")

    signature = models.CharField(_("特征"), max_length=200, unique=True)
    category_code = models.CharField(_("分类"), max_length=80, db_index=True)
    terms = models.JSONField(_("关键词"), default=list)
    sample_count = models.PositiveIntegerField(_("工单数"), default=0)
    province_count = models.PositiveIntegerField(_("涉及省份数"), default=0)
    sample_refs = models.JSONField(_("工单样例"), default=list)
    example_texts = models.JSONField(_("描述样例"), default=list)
    first_seen = models.DateTimeField(_("窗口开始"))
    last_mined_at = models.DateTimeField(_("最近分析"))
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.OPEN, db_index=True
    )
    draft_article = models.ForeignKey(
        Article,
        verbose_name=_("起草文章"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("普遍性问题")
        verbose_name_plural = _("普遍性问题")
        ordering = ["-sample_count", "id"]

    def __str__(self) -> str:
        return " ".join(self.terms[:4])


class SearchDoc(models.Model):
    """The pre-segmented (jieba) text of an article's published revision.

    The full-text index itself is backend-specific and lives outside the ORM
    (see ``search.py`` and migration 0002): on PostgreSQL two weighted
    ``tsvector`` columns on this table with GIN indexes; on SQLite an FTS5
    table keyed by the article id.
    """

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    category_code = models.CharField(max_length=80, db_index=True)
    title_tokens = models.TextField()
    keyword_tokens = models.TextField()
    question_tokens = models.TextField()
    agent_tokens = models.TextField()
    customer_tokens = models.TextField()
    similar_tokens = models.TextField(default="", blank=True)
    length_agent = models.PositiveIntegerField(default=0)
    length_faq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("检索文档")
        verbose_name_plural = _("检索文档")

    def __str__(self) -> str:
        return str(self.article_id)


class Posting(models.Model):
    """One term of one article's published revision, for BM25 ranking (the same SQL on both databases).

    ``weight_agent`` is the field-weighted term frequency over what agents search (title and similar
    questions, keywords, question, both answers), ``weight_faq`` over what the public FAQ searches (no
    agents' answer). ``length_*`` are the article's token counts, repeated here so ranking needs no join.
    """

    id = models.BigAutoField(primary_key=True)
    term = models.CharField(max_length=64)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    weight_agent = models.FloatField()
    weight_faq = models.FloatField()
    length_agent = models.PositiveIntegerField()
    length_faq = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("检索词项")
        verbose_name_plural = _("检索词项")
        # Covering: ranking reads only these columns, so both databases answer from the index alone.
        # Ranking reads a term's postings highest weight first, and only these columns: one index per scope.
        indexes = [
            models.Index(
                fields=["term", "-weight_agent", "length_agent", "-article"], name="kb_posting_agent"
            ),
            models.Index(fields=["term", "-weight_faq", "length_faq", "-article"], name="kb_posting_faq"),
        ]

    def __str__(self) -> str:
        return f"{self.term}@{self.article_id}"


class TermStat(models.Model):
    """How many articles hold a term (document frequency, per scope), kept by indexing.

    Ranking needs every query term's document frequency; counting a common word's postings (34,000 of them
    at 50,000 articles) cost more than the ranking itself. Indexing adds each batch's counts and removal
    subtracts them, with ``INSERT … ON CONFLICT DO UPDATE`` increments (the same statement on both databases);
    ``df_faq`` counts the postings the FAQ scope searches (``weight_faq > 0``).
    """

    term = models.CharField(max_length=64, primary_key=True)
    df_agent = models.IntegerField(default=0)
    df_faq = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("检索词文档频率")
        verbose_name_plural = _("检索词文档频率")

    def __str__(self) -> str:
        return f"{self.term}: {self.df_agent}/{self.df_faq}"


class Term(models.Model):
    """A word of two or more Chinese characters that some article's index holds (or held), with its sound.

    What the typo path reads (``search.typo_terms``): whether a query's characters are a known word, and which
    known words sound like them (``sound``: toneless pinyin, space-separated; empty past four characters).
    Indexing adds new words; a word whose articles were all removed stays, harmless (found in no article).
    """

    term = models.CharField(max_length=64, primary_key=True)
    sound = models.CharField(max_length=200, db_index=True, blank=True)

    class Meta:
        verbose_name = _("检索词")
        verbose_name_plural = _("检索词")

    def __str__(self) -> str:
        return self.term


class SynonymGroup(models.Model):
    """Words that mean the same to a customer and to an article (挂断 / 结束会议), kept by the knowledge team.

    A query containing any member also searches the others.
    """

    words = models.TextField(_("同义词"), help_text=_("以空格或逗号分隔，如：挂断 结束会议 退出会议"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维护人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词组")
        verbose_name_plural = _("同义词组")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.words

    @property
    def word_list(self) -> list[str]:
        return split_words(self.words)


def split_words(text: str) -> list[str]:
    import re

    seen: dict[str, None] = {}
    for w in re.split(r"[\s,，、;；/|]+", text or ""):
        w = w.strip().lower()
        if w:
            seen.setdefault(w, None)
    return list(seen)


class SimilarQuestion(models.Model):
    """Another way of asking an article's question (相似问法), searched like the title once accepted.

    Proposed by hand or by the learning loop (the subject of a work order that cited the article); the
    author accepts or rejects it.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", _("待确认")
        ACCEPTED = "accepted", _("已采纳")
        REJECTED = "rejected", _("已拒绝")

    article = models.ForeignKey(
        Article, verbose_name=_("文章"), on_delete=models.CASCADE, related_name="similar"
    )
    text = models.CharField(_("相似问法"), max_length=200)
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.PROPOSED, db_index=True
    )
    source_ref = models.CharField(_("来源"), max_length=80, blank=True, help_text=_("如工单号"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("相似问法")
        verbose_name_plural = _("相似问法")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["article", "text"], name="kb_similar_unique")]

    def __str__(self) -> str:
        return self.text


class SearchLog(models.Model):
    """One search as typed, with how many articles it found and which one (if any) was opened next."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    scope = models.CharField(_("范围"), max_length=20)
    query = models.CharField(_("检索词"), max_length=200)
    normalized = models.CharField(_("归一化检索词"), max_length=200, db_index=True)
    result_count = models.PositiveIntegerField(_("结果数"))
    clicked_article = models.ForeignKey(
        Article,
        verbose_name=_("点击文章"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("检索日志")
        verbose_name_plural = _("检索日志")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.query
