"""Real processes for the tests: redis-server and yunity-sockets on free ports, and the yunity-sockets-client
command-line client, which prints every message it receives as a JSON line. Every wait is bounded."""
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.environ.get("YUNITY_BIN") or os.path.join(REPO, "build", "bin", "yunity-sockets")
CLIENT_BIN = os.environ.get("YUNITY_CLIENT_BIN") or os.path.join(REPO, "build", "bin", "yunity-sockets-client")
REDIS_SERVER = os.environ.get("REDIS_SERVER") or "redis-server"
# How much slower than a plain build the server runs (scripts/sanitize sets it: 3 under ASan, 5 under TSan): bounds
# that are about speed, not correctness, stretch by this much, as in tests/integration/lib/harness.mjs.
TIME_FACTOR = float(os.environ.get("YUNITY_TEST_TIME_FACTOR") or 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(fn, what, timeout=5.0, every=0.02):
    """The value of fn() once truthy; fails after `timeout` seconds (times TIME_FACTOR)."""
    timeout *= TIME_FACTOR
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class _Output:
    """Collects a process's output lines on a thread, so that pipes never fill up."""

    def __init__(self, stream):
        self.lines = []
        self.queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in iter(stream.readline, ""):
            self.lines.append(line)
            self.queue.put(line)

    def text(self):
        return "".join(self.lines)

    def close(self, stream):
        self.thread.join(2)  # the process has exited: its end of the pipe is closed, the reader ends
        stream.close()


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ys-py-redis-")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        self.client = redis.Redis(port=self.port, decode_responses=True)

        def answers():
            try:
                return self.client.ping()
            except redis.ConnectionError:
                return False
        until(answers, "redis-server to answer", 10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        self.client.close()
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """The real yunity-sockets, on free ports (-w 0 -p 0), learnt from its log."""

    def __init__(self, redis_url=None, plugins=None, config=None):
        argv = [BIN, "-w", "0", "-p", "0", "--log-level", "debug"]
        if redis_url:
            argv += ["--redis", redis_url]
        if plugins:
            argv += ["--plugins", ",".join(plugins)]
        self.dir = tempfile.mkdtemp(prefix="ys-py-server-")
        if config:
            path = os.path.join(self.dir, "config.json")
            with open(path, "w") as f:
                json.dump(config, f)
            argv += ["--config", path]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = _Output(self.proc.stdout)
        until(lambda: re.search(r"yunity-sockets running with \d+ plugins", self.output.text())
              or self.proc.poll() is not None, "yunity-sockets to start", 10)
        log = self.output.text()
        port = re.search(r"listening on \S+:(\d+) for socket\.io clients", log)
        if not port:
            raise AssertionError("yunity-sockets did not start:\n" + log)
        self.port = int(port.group(1))
        admin = re.search(r"listening on \S+:(\d+) for admin requests", log)
        self.admin_port = int(admin.group(1)) if admin else None
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_log(self, pattern, timeout=5.0):
        return until(lambda: re.search(pattern, self.output.text(), re.M), f"log {pattern}", timeout)

    def admin(self, path="/"):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as r:
            return json.loads(r.read())

    def user_of(self, session_id):
        """The user the server holds for the connection with this session (None: no such connection)."""
        for c in self.admin()["connections"]:
            if c["sessionId"] == session_id:
                return c["userId"]
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.wait()
        self.output.close(self.proc.stdout)
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """yunity-sockets-client authenticated with a session id: `messages` are the `message` events received."""

    def __init__(self, server, session_id):
        self.proc = subprocess.Popen(
            [CLIENT_BIN, "--url", server.url, "--reconnect-attempts", "0", session_id],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.output = _Output(self.proc.stdout)

    @property
    def messages(self):
        return [json.loads(line) for line in self.output.lines]

    def wait_messages(self, n, timeout=5.0):
        return until(lambda: len(self.output.lines) >= n and self.messages,
                     f"{n} messages (have {len(self.output.lines)})", timeout)

    def quiet(self, count, seconds=0.5):
        """Nothing more than `count` messages arrives within `seconds`."""
        time.sleep(seconds)
        if len(self.output.lines) != count:
            raise AssertionError(f"expected {count} messages, got {self.messages}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
        self.output.close(self.proc.stdout)
