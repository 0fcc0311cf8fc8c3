from django.core.management.base import BaseCommand

from kefu.knowledge.services import publish_due


class Command(BaseCommand):
    help = "发布计划时间已到的知识 / Publish scheduled revisions whose time has come (Huey runs this every minute)."

    def handle(self, *args: object, **options: object) -> None:
        n = publish_due()
        self.stdout.write(f"published {n}")
