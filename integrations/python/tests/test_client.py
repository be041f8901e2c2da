"""yunity_sockets without Django, against a real redis-server and the real yunity-sockets."""
import json
import math
import os
import unittest
import uuid

import redis

import yunity_sockets
from yunity_sockets import Client, Config

from . import harness

redis_server = server = None


def setUpModule():
    global redis_server, server
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    redis_server = harness.RedisServer()
    server = harness.Server(redis_server.url)
    server.wait_log(r"redis: subscribed to notifications")


def tearDownModule():
    if server:
        server.stop()
    if redis_server:
        redis_server.stop()


def connect_as(user, session=None):
    """A client whose session belongs to `user`, once the server has joined it to the user."""
    session = session or f"py-{uuid.uuid4().hex}"
    redis_server.client.set(f"session-store-{session}", user)
    client = harness.Client(server, session)
    harness.until(lambda: server.user_of(session) == str(user), f"the connection to be user {user}")
    return client


class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.client = Client(redis_url=redis_server.url)

    def test_a_notification_reaches_the_users_connection_with_extra_fields(self):
        c = connect_as("alice")
        try:
            receivers = self.client.notify(["alice"], {"text": "Hallo Welt €"}, type="greeting")
            self.assertEqual(receivers, 1)  # one yunity-sockets instance subscribed
            c.wait_messages(1)
            self.assertEqual(c.messages, [{"data": {"text": "Hallo Welt €"}, "type": "greeting"}])
        finally:
            c.stop()

    def test_users_as_ints_or_strings_are_the_same_user(self):
        c = connect_as(42)
        try:
            self.client.notify([42], 1)
            self.client.notify(["42"], 2)
            self.client.notify(42, 3)  # one id alone
            c.wait_messages(3)
            self.assertEqual([m["data"] for m in c.messages], [1, 2, 3])
        finally:
            c.stop()

    def test_other_users_get_nothing(self):
        c = connect_as("carol")
        try:
            self.client.notify(["dave", 7], "not for carol")
            self.client.notify(["carol"], "for carol")
            c.wait_messages(1)
            c.quiet(1, 0.3)
            self.assertEqual(c.messages, [{"data": "for carol"}])
        finally:
            c.stop()

    def test_module_level_functions_read_REDIS_URL_outside_django(self):
        c = connect_as("erin")
        os.environ["REDIS_URL"] = redis_server.url
        try:
            self.assertEqual(yunity_sockets.notify(["erin"], "via the environment"), 1)
            c.wait_messages(1)
            self.assertEqual(c.messages, [{"data": "via the environment"}])
        finally:
            del os.environ["REDIS_URL"]
            c.stop()

    def test_configure_sets_the_module_level_configuration(self):
        try:
            yunity_sockets.configure(redis_url=redis_server.url, channel="elsewhere")
            p = redis_server.client.pubsub()
            p.subscribe("elsewhere")
            p.get_message(timeout=1)  # the subscribe confirmation
            self.assertEqual(yunity_sockets.notify([1], "x"), 1)
            self.assertEqual(json.loads(p.get_message(timeout=2)["data"]), {"users": [1], "data": "x"})
            p.close()
        finally:
            yunity_sockets.configure()

    def test_empty_users_send_nothing(self):
        self.assertEqual(self.client.notify([], "nobody"), 0)


class RefusalTest(unittest.TestCase):
    """What cannot be sent raises TypeError or ValueError, and nothing reaches redis."""

    def setUp(self):
        self.client = Client(redis_url=redis_server.url)
        self.sub = redis_server.client.pubsub()
        self.sub.subscribe("notifications")
        self.sub.get_message(timeout=1)

    def tearDown(self):
        # The sentinel proves the subscription works; anything before it was sent by a refused call.
        self.client.notify(["sentinel"], "end")
        message = self.sub.get_message(timeout=2)
        self.assertEqual(json.loads(message["data"]), {"users": ["sentinel"], "data": "end"})
        self.sub.close()

    def test_data_that_is_not_json(self):
        with self.assertRaisesRegex(TypeError, "cannot be sent as JSON.*set"):
            self.client.notify([1], {1, 2})
        with self.assertRaisesRegex(TypeError, "cannot be sent as JSON.*object"):
            self.client.notify([1], {"when": object()})
        with self.assertRaisesRegex(ValueError, "cannot be sent as JSON"):
            self.client.notify([1], math.nan)
        with self.assertRaisesRegex(TypeError, "cannot be sent as JSON"):
            self.client.notify([1], "ok", extra=b"bytes")

    def test_bad_user_ids(self):
        with self.assertRaisesRegex(TypeError, "not True"):
            self.client.notify([True], "x")
        with self.assertRaisesRegex(ValueError, "empty"):
            self.client.notify([""], "x")
        with self.assertRaisesRegex(ValueError, "64 bits"):
            self.client.notify([1 << 64], "x")
        with self.assertRaisesRegex(TypeError, "float"):
            self.client.notify([1.5], "x")
        with self.assertRaisesRegex(TypeError, "list of user ids"):
            self.client.notify(None, "x")

    def test_too_large_for_the_server(self):
        small = Client(redis_url=redis_server.url, max_message_bytes=100)
        with self.assertRaisesRegex(ValueError, "more than the server takes"):
            small.notify([1], "x" * 100)

    def test_bad_configuration(self):
        with self.assertRaisesRegex(ValueError, "channel"):
            Config(channel="")
        with self.assertRaisesRegex(ValueError, "unknown keys"):
            Config.from_settings({"CHANNELS": "x"})


class StreamTest(unittest.TestCase):
    def test_a_configured_stream_gets_the_notification_field(self):
        stream = f"ys-stream-{uuid.uuid4().hex}"
        client = Client(redis_url=redis_server.url, stream=stream)
        entry = client.notify([5, "u6"], {"n": 1}, kind="k")
        entries = redis_server.client.xrange(stream)
        self.assertEqual(entries, [(entry, {"notification": '{"users":[5,"u6"],"data":{"n":1},"kind":"k"}'})])

    def test_a_server_reading_the_stream_delivers_what_notify_adds(self):
        # The redis-streams source in place of redis-pubsub: notify's XADD is what it reads.
        stream = f"ys-stream-{uuid.uuid4().hex}"
        streams = harness.Server(redis_server.url, plugins=["socketio", "redis-session", "redis-streams", "admin-http"],
                                 config={"redis-streams": {"stream": stream}})
        try:
            streams.wait_log(r"redis: ready: reading stream " + stream)
            session = f"py-{uuid.uuid4().hex}"
            redis_server.client.set(f"session-store-{session}", "carol")
            c = harness.Client(streams, session)
            try:
                harness.until(lambda: streams.user_of(session) == "carol", "the connection to be carol's")
                entry = Client(redis_url=redis_server.url, stream=stream).notify(["carol"], {"n": 1}, kind="k")
                self.assertRegex(entry, r"^\d+-\d+$")
                c.wait_messages(1)
                self.assertEqual(c.messages, [{"data": {"n": 1}, "kind": "k"}])
                c.quiet(1)
            finally:
                c.stop()
        finally:
            streams.stop()

    def test_the_stream_is_trimmed_approximately(self):
        stream = f"ys-stream-{uuid.uuid4().hex}"
        # MAXLEN ~ trims whole nodes (100 entries each by default): 1000 entries kept to about 10.
        client = Client(redis_url=redis_server.url, stream=stream, stream_maxlen=10)
        for i in range(1000):
            client.notify([1], i)
        self.assertLess(redis_server.client.xlen(stream), 200)
        self.assertGreaterEqual(redis_server.client.xlen(stream), 10)


class OnlineTest(unittest.TestCase):
    """online() reads the presence plugin's keys: `presence:user:<user>`, a sorted set of instance ids scored
    with the time (ms, redis's clock) until which that instance vouches for the user. (test_presence.py runs it
    against the real plugin.)"""

    def setUp(self):
        self.client = Client(redis_url=redis_server.url)
        seconds, micros = redis_server.client.time()
        self.now = seconds * 1000 + micros // 1000

    def test_users_with_a_live_instance_are_online_as_given(self):
        r = redis_server.client
        r.zadd("presence:user:1", {"instance-a": self.now + 30000})
        r.zadd("presence:user:u2", {"instance-a": self.now - 1, "instance-b": self.now + 30000})
        r.zadd("presence:user:3", {"instance-a": self.now - 1})  # an instance that stopped refreshing
        self.assertEqual(self.client.online([1, "u2", 3, 4]), {1, "u2"})
        self.assertEqual(self.client.online(["1"]), {"1"})
        self.assertEqual(self.client.online([]), set())


if __name__ == "__main__":
    unittest.main()
