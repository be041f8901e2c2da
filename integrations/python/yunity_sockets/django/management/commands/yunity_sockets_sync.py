"""Writes every live, logged-in session into redis: for a site adopting yunity-sockets (its sessions predate the
login signal), or after redis lost its data."""
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from yunity_sockets.client import default_client

BATCH = 1000


class Command(BaseCommand):
    help = ("Writes every live logged-in session into redis as <prefix><session key> = user id, with the "
            "session's remaining lifetime, so yunity-sockets knows them.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")

    def handle(self, *args, dry_run=False, **options):
        store = import_module(settings.SESSION_ENGINE).SessionStore
        if not hasattr(store, "get_model_class"):
            raise CommandError(f"{settings.SESSION_ENGINE} cannot list its sessions; only the database backends "
                               "(db, cached_db) can be synced: their sessions are written at login anyway")
        client = default_client()
        now = timezone.now()
        counts = {"written": 0, "anonymous": 0, "invalid": 0}
        batch = []
        for session in store.get_model_class().objects.filter(expire_date__gt=now).iterator():
            batch.append(session)
            if len(batch) == BATCH:
                self.write(client, store, batch, now, counts, dry_run)
                batch = []
        self.write(client, store, batch, now, counts, dry_run)
        self.stdout.write(
            f"{'would write' if dry_run else 'wrote'} {counts['written']} sessions to redis "
            f"(skipped {counts['anonymous']} without a user, {counts['invalid']} no longer valid)")

    def write(self, client, store, sessions, now, counts, dry_run):
        user_model = get_user_model()
        decoded = []
        for session in sessions:
            data = store().decode(session.session_data)
            if SESSION_KEY not in data:
                counts["anonymous"] += 1
                continue
            decoded.append((session, data))
        pks = {user_model._meta.pk.to_python(data[SESSION_KEY]) for _, data in decoded}
        users = user_model._default_manager.in_bulk(pks)
        backends = set(settings.AUTHENTICATION_BACKENDS)
        pipe = client.redis.pipeline(transaction=False)
        for session, data in decoded:
            user = users.get(user_model._meta.pk.to_python(data[SESSION_KEY]))
            if not self.valid(user, data, backends):
                counts["invalid"] += 1
                continue
            counts["written"] += 1
            milliseconds = int((session.expire_date - now).total_seconds() * 1000)
            if milliseconds > 0 and not dry_run:
                pipe.set(client.config.session_prefix + session.session_key,
                         user._meta.pk.value_to_string(user), px=milliseconds)
        if not dry_run:
            pipe.execute()

    @staticmethod
    def valid(user, data, backends):
        """What django.contrib.auth.get_user() would accept: the user exists and is active, logged in through a
        configured backend, and the session's hash still matches (a password change logs sessions out)."""
        if user is None or not getattr(user, "is_active", True):
            return False
        if data.get(BACKEND_SESSION_KEY) not in backends:
            return False
        if hasattr(user, "get_session_auth_hash"):
            return constant_time_compare(data.get(HASH_SESSION_KEY) or "", user.get_session_auth_hash())
        return True
