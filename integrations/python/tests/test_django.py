"""The Django app (Debian's python3-django) against a real redis-server and the real yunity-sockets: logins and
logouts through Django's own login() and logout(), session rotation, the sync command, the checks."""
import datetime
import io
import json
import os
import socket
import time
import unittest
import uuid

from . import harness

redis_server = server = None


def sessions_in_redis():
    """The session keys in redis, without the server's readiness probes (session-store-yunity-canary:*, which
    redis-session writes under the session prefix and which expire by themselves)."""
    keys = redis_server.client.keys("session-store-*")
    return [k for k in keys if not (k.decode() if isinstance(k, bytes) else k).startswith("session-store-yunity-canary:")]


def setUpModule():
    global redis_server, server
    redis_server = harness.RedisServer()
    server = harness.Server(redis_server.url)
    server.wait_log(r"redis link up")  # redis-session follows the keys from here on
    server.wait_log(r"redis: subscribed to notifications")
    import django
    from django.conf import settings
    settings.configure(
        SECRET_KEY="not secret: tests only",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                        "yunity_sockets.django"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        ROOT_URLCONF=__name__,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # fast; security is not tested here
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        YUNITY_SOCKETS={"REDIS_URL": redis_server.url},
    )
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)


def tearDownModule():
    if server:
        server.stop()
    if redis_server:
        redis_server.stop()


# The site under test: Django's own login() and logout(), as every login view ends up calling them.
def login_view(request):
    from django.contrib.auth import authenticate, login
    from django.http import HttpResponse
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return HttpResponse(status=403)
    login(request, user)
    return HttpResponse("ok")


def logout_view(request):
    from django.contrib.auth import logout
    from django.http import HttpResponse
    logout(request)
    return HttpResponse("ok")


def anonymous_view(request):
    from django.http import HttpResponse
    request.session["cart"] = ["something"]  # an anonymous visitor with a session, before logging in
    return HttpResponse("ok")


def password_view(request):
    from django.contrib.auth import update_session_auth_hash
    from django.http import HttpResponse
    from yunity_sockets.django.signals import store_session
    request.user.set_password(request.POST["password"])
    request.user.save()
    update_session_auth_hash(request, request.user)  # keeps this session logged in, under a new key
    store_session(request, request.user)  # which Django signals to nobody: the README says to call this
    return HttpResponse("ok")


def _urls():
    from django.urls import path
    return [path("login/", login_view), path("logout/", logout_view), path("anonymous/", anonymous_view),
            path("password/", password_view)]


def __getattr__(name):  # ROOT_URLCONF is this module; Django is configured only in setUpModule
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


def make_user(password="pw", **fields):
    from django.contrib.auth import get_user_model
    return get_user_model().objects.create_user(f"user-{uuid.uuid4().hex[:12]}", password=password, **fields)


def log_in(browser, user, password="pw"):
    from django.conf import settings
    response = browser.post("/login/", {"username": user.username, "password": password})
    assert response.status_code == 200, response.status_code
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def stored(session_key):
    return redis_server.client.get(f"session-store-{session_key}")


class SignalsTest(unittest.TestCase):
    def setUp(self):
        from django.test import Client
        self.browser = Client()

    def test_login_writes_the_session_logout_removes_it_and_the_server_follows(self):
        import yunity_sockets
        from django.conf import settings
        user = make_user()
        key = log_in(self.browser, user)
        self.assertEqual(stored(key), str(user.pk))
        ttl = redis_server.client.pttl(f"session-store-{key}")
        self.assertTrue(settings.SESSION_COOKIE_AGE * 1000 - 10000 < ttl <= settings.SESSION_COOKIE_AGE * 1000, ttl)

        client = harness.Client(server, key)  # the session id, as a page would authenticate with it
        try:
            harness.until(lambda: server.user_of(key) == str(user.pk), "the connection to be the user's")
            self.assertEqual(yunity_sockets.notify([user.pk], {"text": "hi"}), 1)
            client.wait_messages(1)
            self.assertEqual(client.messages, [{"data": {"text": "hi"}}])

            self.browser.post("/logout/")
            self.assertIsNone(stored(key))
            harness.until(lambda: server.user_of(key) == "__nouser__", "the connection to lose its user")
            yunity_sockets.notify([user.pk], {"text": "after logout"})
            client.quiet(1)
        finally:
            client.stop()

    def test_the_session_expiry_is_the_sessions(self):
        from django.test import override_settings
        with override_settings(SESSION_COOKIE_AGE=60):
            key = log_in(self.browser, make_user())
        self.assertTrue(50000 < redis_server.client.pttl(f"session-store-{key}") <= 60000)

    def test_login_rotates_the_key_and_the_old_one_is_removed(self):
        self.browser.get("/anonymous/")
        from django.conf import settings
        anonymous_key = self.browser.cookies[settings.SESSION_COOKIE_NAME].value
        # As if something had stored it: the rotated-away key must not survive in redis either way.
        redis_server.client.set(f"session-store-{anonymous_key}", "someone")
        user = make_user()
        key = log_in(self.browser, user)
        self.assertNotEqual(key, anonymous_key)
        self.assertIsNone(stored(anonymous_key))
        self.assertEqual(stored(key), str(user.pk))

    def test_another_user_logging_in_on_the_same_browser_takes_the_old_session_away(self):
        # Django flushes the session without sending user_logged_out when a different user logs in.
        alice, bob = make_user(), make_user()
        alice_key = log_in(self.browser, alice)
        client = harness.Client(server, alice_key)
        try:
            harness.until(lambda: server.user_of(alice_key) == str(alice.pk), "alice's connection")
            bob_key = log_in(self.browser, bob)
            self.assertNotEqual(bob_key, alice_key)
            self.assertIsNone(stored(alice_key))
            self.assertEqual(stored(bob_key), str(bob.pk))
            harness.until(lambda: server.user_of(alice_key) == "__nouser__", "alice's old connection to be no one's")
        finally:
            client.stop()

    def test_store_session_after_update_session_auth_hash_moves_the_session_to_its_new_key(self):
        from django.conf import settings
        user = make_user()
        old_key = log_in(self.browser, user)
        self.assertEqual(self.browser.post("/password/", {"password": "new"}).status_code, 200)
        new_key = self.browser.cookies[settings.SESSION_COOKIE_NAME].value
        self.assertNotEqual(new_key, old_key)
        self.assertIsNone(stored(old_key))
        self.assertEqual(stored(new_key), str(user.pk))

    def test_notify_takes_model_instances_and_querysets(self):
        import yunity_sockets
        from django.contrib.auth import get_user_model
        a, b = make_user(), make_user()
        sub = redis_server.client.pubsub()
        sub.subscribe("notifications")
        sub.get_message(timeout=1)
        yunity_sockets.notify(a, "one")
        yunity_sockets.notify(get_user_model().objects.filter(pk__in=[a.pk, b.pk]).order_by("pk"), "two")
        self.assertEqual(json.loads(sub.get_message(timeout=2)["data"]), {"users": [a.pk], "data": "one"})
        self.assertEqual(json.loads(sub.get_message(timeout=2)["data"]), {"users": [a.pk, b.pk], "data": "two"})
        sub.close()

    def test_redis_down_does_not_break_login_and_is_logged(self):
        from django.test import override_settings
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        with override_settings(YUNITY_SOCKETS={"REDIS_URL": f"redis://127.0.0.1:{closed}/0"}):
            with self.assertLogs("yunity_sockets", "ERROR") as logs:
                log_in(self.browser, make_user())
        self.assertIn("could not write the session", logs.output[0])

    def test_notify_under_django_encodes_dates_as_django_does(self):
        import yunity_sockets
        sub = redis_server.client.pubsub()
        sub.subscribe("notifications")
        sub.get_message(timeout=1)
        yunity_sockets.notify([1], {"at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)})
        self.assertEqual(json.loads(sub.get_message(timeout=2)["data"]),
                         {"users": [1], "data": {"at": "2026-01-02T03:04:05Z"}})
        sub.close()


def next_notification(sub, timeout):
    """The next message on the channel that is not a server's readiness probe (yunity-canary:...), or None."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        message = sub.get_message(timeout=left)
        if message and message["type"] == "message" and not str(message["data"]).startswith("yunity-canary:"):
            return message
    return None


class StreamSettingTest(unittest.TestCase):
    def test_stream_in_the_django_setting_sends_through_the_stream_a_redis_streams_server_reads(self):
        import yunity_sockets
        from django.test import Client, override_settings
        stream = f"ys-django-stream-{uuid.uuid4().hex}"
        streams = harness.Server(redis_server.url, plugins=["socketio", "redis-session", "redis-streams", "admin-http"],
                                 config={"redis-streams": {"stream": stream}})
        sub = redis_server.client.pubsub()
        try:
            streams.wait_log(r"redis: ready: reading stream " + stream)
            user = make_user()
            key = log_in(Client(), user)
            client = harness.Client(streams, key)
            try:
                harness.until(lambda: streams.user_of(key) == str(user.pk), "the connection to be the user's")
                sub.subscribe("notifications")
                sub.get_message(timeout=1)
                settings = {"REDIS_URL": redis_server.url, "STREAM": stream, "STREAM_MAXLEN": 50}
                with override_settings(YUNITY_SOCKETS=settings):
                    entry = yunity_sockets.notify(user, {"text": "by stream"})
                self.assertRegex(entry, r"^\d+-\d+$")  # XADD's entry id, not PUBLISH's count
                self.assertEqual(redis_server.client.xrange(stream),
                                 [(entry, {"notification": json.dumps({"users": [user.pk], "data": {"text": "by stream"}},
                                                                      separators=(",", ":"))})])
                client.wait_messages(1)
                self.assertEqual(client.messages, [{"data": {"text": "by stream"}}])
                self.assertIsNone(next_notification(sub, 0.5))  # nothing went to the channel (but probes)
                # Without STREAM the same call publishes again.
                yunity_sockets.notify(user, "by channel")
                self.assertEqual(json.loads(next_notification(sub, 2)["data"]), {"users": [user.pk], "data": "by channel"})
            finally:
                client.stop()
        finally:
            sub.close()
            streams.stop()


class SyncCommandTest(unittest.TestCase):
    def test_every_live_logged_in_session_is_written_with_its_remaining_time(self):
        from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
        from django.contrib.sessions.models import Session
        from django.contrib.sessions.backends.db import SessionStore
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        Session.objects.all().delete()
        live, changed_password, inactive = make_user(), make_user(), make_user()
        live_key = log_in(Client(), live)
        live_key2 = log_in(Client(), live)  # a second browser of the same user
        stale_key = log_in(Client(), changed_password)
        changed_password.set_password("new")  # logs its sessions out, as Django sees them
        changed_password.save()
        inactive_key = log_in(Client(), inactive)
        inactive.is_active = False
        inactive.save()
        anonymous = Client()
        anonymous.get("/anonymous/")
        expired = SessionStore()
        expired.update({SESSION_KEY: str(live.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                        HASH_SESSION_KEY: live.get_session_auth_hash()})
        expired.create()
        Session.objects.filter(session_key=expired.session_key).update(
            expire_date=timezone.now() - datetime.timedelta(minutes=1))

        # A connection that holds a session redis no longer knows (say, redis lost its data) ...
        redis_server.client.flushdb()
        client = harness.Client(server, live_key)
        try:
            harness.until(lambda: server.user_of(live_key) == "__nouser__", "the connection without a user")

            out = io.StringIO()
            call_command("yunity_sockets_sync", "--dry-run", stdout=out)
            self.assertEqual(out.getvalue().strip(),
                             "would write 2 sessions to redis (skipped 1 without a user, 2 no longer valid)")
            self.assertEqual(sessions_in_redis(), [])

            out = io.StringIO()
            call_command("yunity_sockets_sync", stdout=out)
            self.assertEqual(out.getvalue().strip(),
                             "wrote 2 sessions to redis (skipped 1 without a user, 2 no longer valid)")
            self.assertEqual(sorted(sessions_in_redis()),
                             sorted([f"session-store-{live_key}", f"session-store-{live_key2}"]))
            self.assertEqual(stored(live_key), str(live.pk))
            age = Session.objects.get(session_key=live_key).expire_date - timezone.now()
            self.assertAlmostEqual(redis_server.client.pttl(f"session-store-{live_key}"),
                                   age.total_seconds() * 1000, delta=5000)
            for key in (stale_key, inactive_key, expired.session_key):
                self.assertIsNone(stored(key))
            # ... gets its user back as soon as the sync writes it.
            harness.until(lambda: server.user_of(live_key) == str(live.pk), "the connection to get its user back")
        finally:
            client.stop()


class ChecksTest(unittest.TestCase):
    def test_signed_cookie_sessions_and_unknown_settings_are_reported(self):
        from django.test import override_settings
        from yunity_sockets.django.apps import check_settings
        self.assertEqual(check_settings(), [])
        with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
            self.assertEqual([e.id for e in check_settings()], ["yunity_sockets.E002"])
        with override_settings(YUNITY_SOCKETS={"REDIS": "redis://x"}):
            self.assertEqual([e.id for e in check_settings()], ["yunity_sockets.E001"])


if __name__ == "__main__":
    unittest.main()
