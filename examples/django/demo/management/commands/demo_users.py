from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Creates the example's users alice and bob (password: demo), unless they exist."

    def handle(self, *args, **options):
        users = get_user_model()
        for name in ("alice", "bob"):
            if not users.objects.filter(username=name).exists():
                users.objects.create_user(name, password="demo")
        self.stdout.write("users: alice, bob (password: demo)")
