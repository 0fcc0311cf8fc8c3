from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.index, name="index"),
    path("articles/new/", views.article_new, name="article_new"),
    path("articles/<int:pk>/", views.article_detail, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("articles/<int:pk>/feedback/", views.article_feedback, name="article_feedback"),
    path("revisions/<int:pk>/", views.revision_detail, name="revision"),
    path("revisions/<int:pk>/diff/", views.revision_diff, name="revision_diff"),
    path("revisions/<int:pk>/act/", views.revision_act, name="revision_act"),
    path("revisions/<int:pk>/load/", views.revision_load, name="revision_load"),
    path("review/", views.review_queue, name="review"),
    path("receipts/", views.receipts, name="receipts"),
    path("feedback/", views.feedback_list, name="feedback"),
    path("feedback/<int:pk>/handle/", views.feedback_handle, name="feedback_handle"),
    path("problems/", views.problems, name="problems"),
    path("problems/<int:pk>/draft/", views.problem_draft, name="problem_draft"),
    path("problems/<int:pk>/dismiss/", views.problem_dismiss, name="problem_dismiss"),
    path("import/", views.import_page, name="import"),
    path("export.xlsx", views.export, name="export"),
    path("suggest/", views.suggest, name="suggest"),
    path("suggest/clicked/", views.suggest_clicked, name="suggest_clicked"),
    path("synonyms/", views.synonyms, name="synonyms"),
    path("synonyms.xlsx", views.synonyms_export, name="synonyms_export"),
    path("synonyms/import/", views.synonyms_import, name="synonyms_import"),
    path("similar/", views.similar_queue, name="similar"),
    path("similar/<int:pk>/decide/", views.similar_decide, name="similar_decide"),
    path("articles/<int:pk>/similar/", views.similar_add, name="similar_add"),
    path("gaps/", views.gaps, name="gaps"),
    path("faq/", views.faq_index, name="faq"),
    path("faq/<int:pk>/", views.faq_article, name="faq_article"),
]
