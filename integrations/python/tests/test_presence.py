"""yunity_sockets.online() and the `presence` channel against the real presence plugin: two real yunity-sockets
instances on one real redis, clients on each, and one instance killed with SIGKILL or stopped with SIGTERM."""
import json
import re
import time
import unittest
import urllib.request
import uuid

from yunity_sockets import Client

from . import harness

PLUGINS = ["socketio", "redis-session", "redis-pubsub", "admin-http", "presence"]
# Shorter than the defaults (ttl 20 s, refresh 5 s) so that the SIGKILL case takes seconds; the bound is the same
# arithmetic: offline at most ttl after the last refresh, announced at the next sweep after that.
TTL, REFRESH = 3.0, 0.5
CONFIG = {"presence": {"ttl_ms": int(TTL * 1000), "refresh_interval_ms": int(REFRESH * 1000)}}

redis_server = None


def setUpModule():
    global redis_server
    redis_server = harness.RedisServer()


def tearDownModule():
    if redis_server:
        redis_server.stop()


def start_server():
    server = harness.Server(redis_server.url, plugins=PLUGINS, config=CONFIG)
    server.wait_log(r"redis link 'presence': connected")
    return server


def connect(server, user):
    session = f"presence-{uuid.uuid4().hex}"
    redis_server.client.set(f"session-store-{session}", user)
    client = harness.Client(server, session)
    harness.until(lambda: server.user_of(session) == user, f"the connection to be {user}'s")
    return client


def instance_in_redis(server):
    """Whether redis still has the instance's entry or its set of users."""
    instance = re.search(r"presence as instance (\S+) in ", server.output.text()).group(1)
    return (redis_server.client.zscore("presence:instances", instance) is not None
            or redis_server.client.exists(f"presence:instance:{instance}"))


class Changes:
    """The messages on the `presence` channel."""

    def __init__(self):
        self.sub = redis_server.client.pubsub()
        self.sub.subscribe("presence")
        self.sub.get_message(timeout=1)
        self.seen = []

    def poll(self):
        while True:
            m = self.sub.get_message(timeout=0.01)
            if not m:
                return self.seen
            if m["type"] == "message":
                self.seen.append(json.loads(m["data"]))

    def wait(self, n, timeout=2.0):
        return harness.until(lambda: len(self.poll()) >= n and self.seen, f"{n} presence changes", timeout)

    def close(self):
        self.sub.close()


class PresenceTest(unittest.TestCase):
    def setUp(self):
        self.a, self.b = start_server(), start_server()
        self.client = Client(redis_url=redis_server.url)
        self.changes = Changes()

    def tearDown(self):
        self.changes.close()
        self.a.stop()
        self.b.stop()

    def online(self, user):
        return user in self.client.online([user])

    def test_online_across_instances_within_two_seconds_of_connect_and_last_disconnect(self):
        user = f"p-{uuid.uuid4().hex[:8]}"
        self.assertEqual(self.client.online([user, "nobody"]), set())
        started = time.monotonic()
        on_a = connect(self.a, user)
        harness.until(lambda: self.online(user), "online after connecting", 2)
        self.assertEqual(self.changes.wait(1), [{"user": user, "online": True}])
        on_b = connect(self.b, user)  # a second connection, on the other instance: no change
        # b writes its user to redis after the connection joined it: once it is there, a's going changes nothing.
        instance_b = re.search(r"presence as instance (\S+) in ", self.b.output.text()).group(1)
        harness.until(lambda: redis_server.client.sismember(f"presence:instance:{instance_b}", user),
                      "b's presence in redis")
        on_a.stop()
        time.sleep(0.5)
        self.assertTrue(self.online(user))
        self.assertEqual(self.changes.poll(), [{"user": user, "online": True}])
        on_b.stop()
        closed = time.monotonic()
        harness.until(lambda: not self.online(user), "offline after the last disconnect", 2)
        self.assertEqual(self.changes.wait(2), [{"user": user, "online": True}, {"user": user, "online": False}])
        self.assertLess(time.monotonic() - closed, 2 * harness.TIME_FACTOR)
        self.assertLess(closed - started, 10 * harness.TIME_FACTOR)

    def test_the_users_of_a_killed_instance_go_offline_within_the_ttl_and_are_announced(self):
        user, stays = f"k-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex[:8]}"
        on_a = connect(self.a, user)
        on_b = connect(self.b, stays)
        try:
            harness.until(lambda: self.client.online([user, stays]) == {user, stays}, "both online", 2)
            self.changes.wait(2)
            time.sleep(REFRESH * 2)  # at least one refresh after connecting: the bound counts from the last one
            self.a.proc.kill()  # SIGKILL: no goodbye
            killed = time.monotonic()
            harness.until(lambda: not self.online(user), "the killed instance's user offline", TTL + 1)
            offline_after = time.monotonic() - killed
            self.changes.wait(3, REFRESH + 2)
            announced_after = time.monotonic() - killed
            self.assertEqual(self.changes.seen[2:], [{"user": user, "online": False}])
            # Whatever the server's speed, its last stamp came before the kill: the bound is redis's clock's.
            self.assertLessEqual(offline_after, TTL + 0.2 * harness.TIME_FACTOR)
            self.assertLessEqual(announced_after, TTL + REFRESH + 1 * harness.TIME_FACTOR)
            self.assertTrue(self.online(stays))  # the living instance's users stay
        finally:
            on_a.stop()
            on_b.stop()

    def test_the_users_of_an_instance_stopped_with_sigterm_go_offline_within_two_seconds_and_are_announced(self):
        alone, shared = f"t-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
        clients = [connect(self.a, alone), connect(self.a, shared), connect(self.b, shared)]
        try:
            harness.until(lambda: self.client.online([alone, shared]) == {alone, shared}, "both online", 2)
            self.changes.wait(2)
            self.a.proc.terminate()  # SIGTERM: a graceful stop, with its clients still connected
            stopped = time.monotonic()
            harness.until(lambda: not self.online(alone), "the stopped instance's user offline", 2)
            self.changes.wait(3, 2)
            self.assertLess(time.monotonic() - stopped, 2 * harness.TIME_FACTOR)
            self.assertEqual(self.a.proc.wait(5), 0)
            self.assertEqual(self.changes.seen[2:], [{"user": alone, "online": False}])
            # The user b still holds stays online, unannounced, also once b's sweeps have run past a's ttl.
            time.sleep(TTL + REFRESH)
            self.assertTrue(self.online(shared))
            self.assertEqual(self.changes.poll()[2:], [{"user": alone, "online": False}])
            log = self.a.output.text()
            self.assertIn("presence: this instance stops; 1 of its users went offline", log)
            self.assertNotIn("work still pending", log)  # the link closed once redis had answered, not at the cut
            self.assertFalse(instance_in_redis(self.a))
        finally:
            for c in clients:
                c.stop()

    def test_the_only_instance_stopped_with_sigterm_announces_its_users_offline(self):
        self.b.stop()  # nobody is left to sweep after a
        user = f"o-{uuid.uuid4().hex[:8]}"
        client = connect(self.a, user)
        try:
            harness.until(lambda: self.online(user), "online", 2)
            self.changes.wait(1)
            self.a.proc.terminate()
            stopped = time.monotonic()
            harness.until(lambda: not self.online(user), "offline after SIGTERM", 2)
            self.assertEqual(self.changes.wait(2, 2), [{"user": user, "online": True}, {"user": user, "online": False}])
            self.assertLess(time.monotonic() - stopped, 2 * harness.TIME_FACTOR)
            self.assertEqual(self.a.proc.wait(5), 0)
            self.assertFalse(instance_in_redis(self.a))
        finally:
            client.stop()

    def test_counts_in_stats_and_metrics(self):
        users = [f"c-{uuid.uuid4().hex[:8]}" for _ in range(2)]
        clients = [connect(self.b, u) for u in users] + [connect(self.b, users[0])]
        try:
            self.changes.wait(2)
            stats = self.b.admin("/stats")
            self.assertEqual(stats["presence"], {"users": 2, "announced_online": 2, "announced_offline": 0})
            with urllib.request.urlopen(f"http://127.0.0.1:{self.b.admin_port}/metrics", timeout=5) as r:
                metrics = r.read().decode()
            self.assertIn("yunity_presence_users 2\n", metrics)
            self.assertIn('yunity_presence_changes_total{online="true"} 2\n', metrics)
            self.assertEqual(self.b.admin(f"/presence?users={users[0]},{users[1]},nobody"),
                             {"online": users})  # answered from redis: any instance's users
        finally:
            for c in clients:
                c.stop()


class MemoryPresenceTest(unittest.TestCase):
    """No redis at all: memory-session's sessions, and GET /presence answers from this instance. No "store" is
    set: with no plugin that talks to redis, presence keeps to memory by itself (and --redis, which names a port
    nobody listens on, is never tried)."""

    def test_get_presence_on_the_admin_port(self):
        server = harness.Server(f"redis://127.0.0.1:{harness.free_port()}/0",
                                plugins=["socketio", "memory-session", "admin-http", "presence"])
        try:
            self.assertIn("presence of this instance's users, in memory", server.output.text())
            request = urllib.request.Request(f"http://127.0.0.1:{server.admin_port}/sessions/m-session",
                                             data=b'"m1"', method="PUT",
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).close()
            client = harness.Client(server, "m-session")
            harness.until(lambda: server.user_of("m-session") == "m1", "the connection to be m1's")
            self.assertEqual(server.admin("/presence?users=m1,m2"), {"online": ["m1"]})
            self.assertEqual(server.admin("/stats")["presence"],
                             {"users": 1, "announced_online": 1, "announced_offline": 0})
            client.stop()
            harness.until(lambda: server.admin("/presence?users=m1,m2") == {"online": []}, "m1 offline", 2)
            self.assertEqual(server.admin("/stats")["presence"],
                             {"users": 0, "announced_online": 1, "announced_offline": 1})
            with self.assertRaises(urllib.error.HTTPError) as refused:
                server.admin("/presence")
            self.assertEqual(refused.exception.code, 400)
            self.assertNotIn("redis", server.output.text())  # nothing tried to reach one
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
