"""User accounts are deactivated, never deleted: no product row is deleted along with a user (#15.12).

Every foreign key to the user model is PROTECT (the row is history that names its user:
orders, memberships, idempotency keys, screen pops...) or SET_NULL (the row must survive
without the user: who requested a mail, who issued a bulletin). CASCADE would erase history.
"""

from django.apps import apps
from django.conf import settings
from django.db import models

# Django's own admin log is not product data.
ALLOWED_CASCADE = {("admin.logentry", "user")}


def test_no_foreign_key_to_users_cascades():
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found, cascading = 0, []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.remote_field.model is user_model:
                found += 1
                if (
                    f.remote_field.on_delete not in (models.PROTECT, models.SET_NULL)
                    and (
                        model._meta.label_lower,
                        f.name,
                    )
                    not in ALLOWED_CASCADE
                ):
                    cascading.append(f"{model._meta.label}.{f.name}: {f.remote_field.on_delete.__name__}")
    assert found > 20  # the walk saw the product's keys
    assert cascading == []
