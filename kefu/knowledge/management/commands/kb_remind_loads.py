from django.core.management.base import BaseCommand

from kefu.knowledge.services import receipts_remind


class Command(BaseCommand):
    help = "催办未加载知识的省份 / Remind province desks of published revisions they have not loaded."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"reminded {receipts_remind()} receipt(s)")
