#!/usr/bin/env bash
# ys-loadgen end to end, small and quick: a real redis and the real server; clients of both Engine.IO versions,
# websocket and long-polling, several per user; a fan-out at a fixed rate, one as fast as possible, a storm; every
# delivery checked, so the run must pass. Then the instrument must notice a loss: the server's subscription is
# killed in the middle of a fan-out (redis pub/sub keeps nothing), and the run must fail, saying what was lost.
# Last, a burst XADDed to a stream read by the redis-streams source: delivered in full, with the server's RSS.
set -uo pipefail
loadgen=$1 server=$2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done; wait 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break; sleep 0.05; done
port=$(free_port) admin=$(free_port)
"$server" -w "$port" -p "$admin" --redis "redis://127.0.0.1:$redis_port" --log-level warn \
  --config "$(dirname "$0")/../../server-config.json" > "$work/server.log" 2>&1 &
server_pid=$!
pids+=($server_pid)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$admin/readyz" > /dev/null && break; sleep 0.05; done

common=(--url "http://127.0.0.1:$port" --redis "127.0.0.1:$redis_port" --server-pid "$server_pid")
"$loadgen" "${common[@]}" -n 120 -k 3 -m 4 --eio mix --polling-share 0.25 --source-addresses 3 --processes 2 \
  --phase fanout:2000:2 --phase fanout:max:1 --phase storm --json "$work/pass.json" 2> "$work/pass.log"
status=$?
if [ "$status" -ne 0 ]; then
  fail "a clean run exited with $status"; sed 's/^/  /' "$work/pass.log"
elif ! python3 - "$work/pass.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] and not d["errors"], d["errors"]
assert d["setup"]["processes"] == 2 and d["setup"]["polling_clients"] > 0
kinds = [p["kind"] for p in d["phases"]]
assert kinds == ["connect", "fanout", "fanout", "storm"], kinds
assert d["phases"][0]["authenticated"] == 120 and d["phases"][0]["server_rss_bytes_per_connection"] > 0
for p in d["phases"][1:3]:
    assert p["deliveries_received"] == p["deliveries_expected"] > 0, p
    assert p["lost"] == p["duplicated"] == p["misdelivered"] == 0
    assert 0 < p["latency_us"]["p50"] <= p["latency_us"]["max"]
assert d["phases"][3]["authenticated"] == 120
PY
then
  fail "the clean run's JSON is not what it should be"
else
  echo "ok: a clean run passes, every delivery verified"
fi

# Recovery claims: two storms whose reconnections present their pid and offset (4.x) or resume with
# authenticate {sessionId, offset} (2.x), websocket and polling; the server as shipped gives every one back.
# A second apart: a polling client dropped between two polls (no GET held) closes nothing the server sees, so
# its session lives on until its heartbeat and its claim finds no record. Right after the first storm, a
# recovered polling client may not have sent its next GET yet: the likely cause of one claim of 60 refused in
# the second storm of a CI run under ASan.
"$loadgen" "${common[@]}" -n 60 -k 2 -m 3 --eio mix --polling-share 0.25 --phase fanout:1000:1 --phase storm \
  --phase hold:1 --phase storm --storm-recovery expect --json "$work/recovery.json" 2> "$work/recovery.log"
status=$?
if [ "$status" -ne 0 ]; then
  fail "a storm with recovery claims exited with $status"; sed 's/^/  /' "$work/recovery.log"
elif ! python3 - "$work/recovery.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] and d["setup"]["storm_recovery"] == "expect", d["errors"]
storms = [p for p in d["phases"] if p["kind"] == "storm"]
assert len(storms) == 2
for s in storms:
    assert s["authenticated"] == 60 and s["recovery"] == {"claims": 60, "recovered": 60, "not_recovered": 0}, s
PY
then
  fail "the recovery storms' JSON is not what it should be"
else
  echo "ok: every reconnection of two storms presented its claim and recovered"
fi

# The same against a server without recovery: every claim is answered, none recovers, and `expect` fails the run.
norec_port=$(free_port) norec_admin=$(free_port)
"$server" -w "$norec_port" -p "$norec_admin" --redis "redis://127.0.0.1:$redis_port" --log-level warn \
  --recovery-window 0 --config "$(dirname "$0")/../../server-config.json" > "$work/server-norecovery.log" 2>&1 &
norec_pid=$!
pids+=($norec_pid)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$norec_admin/readyz" > /dev/null && break; sleep 0.05; done
"$loadgen" --url "http://127.0.0.1:$norec_port" --redis "127.0.0.1:$redis_port" -n 40 -k 2 -m 3 --eio mix \
  --phase fanout:1000:1 --phase storm --storm-recovery expect --json "$work/norecovery.json" \
  2> "$work/norecovery.log"
status=$?
if [ "$status" -ne 1 ]; then
  fail "claims refused by a server without recovery: exit $status, not 1"; sed 's/^/  /' "$work/norecovery.log"
elif ! python3 - "$work/norecovery.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
storm = [p for p in d["phases"] if p["kind"] == "storm"][0]
assert storm["authenticated"] == 40, storm
# 2.x clients resume with their offset and are told no; 4.x clients were never given a pid to present.
r = storm["recovery"]
assert r["recovered"] == 0 and r["not_recovered"] == r["claims"] > 0, storm
assert any("0 of 40 clients recovered" in e for e in d["errors"]), d["errors"]
PY
then
  fail "the refused claims are not reported as such"
else
  echo "ok: refused claims are counted, and expect makes the run fail"
fi
kill "$norec_pid" 2> /dev/null

# The loss: kill the server's redis subscription a second into a three-second fan-out.
(sleep 1.5; redis-cli -p "$redis_port" client kill type pubsub > /dev/null) &
"$loadgen" "${common[@]}" -n 60 -k 2 -m 3 --phase fanout:3000:3 --json "$work/loss.json" 2> "$work/loss.log"
status=$?
if [ "$status" -ne 1 ]; then
  fail "a run with lost messages exited with $status, not 1"; sed 's/^/  /' "$work/loss.log"
elif ! grep -q '[1-9][0-9]* lost' "$work/loss.log"; then
  fail "the lost messages are not reported"; sed 's/^/  /' "$work/loss.log"
else
  echo "ok: lost messages make the run fail: $(grep -o '[0-9]* lost, [0-9]* duplicated' "$work/loss.log" | head -1)"
fi
# A burst through the redis-streams source: published as fast as redis takes it, then drained and verified.
stream_port=$(free_port) stream_admin=$(free_port)
"$server" -w "$stream_port" -p "$stream_admin" --redis "redis://127.0.0.1:$redis_port" --log-level warn \
  --plugins socketio,redis-session,redis-streams,admin-http \
  --config "$(dirname "$0")/../../server-config.json" > "$work/stream-server.log" 2>&1 &
stream_pid=$!
pids+=($stream_pid)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$stream_admin/readyz" > /dev/null && break; sleep 0.05; done
"$loadgen" --url "http://127.0.0.1:$stream_port" --redis "127.0.0.1:$redis_port" --server-pid "$stream_pid" \
  -n 60 -k 2 -m 3 --stream notifications --stream-maxlen 0 --drain-timeout 60 --phase burst:0.5 \
  --json "$work/burst.json" 2> "$work/burst.log"
status=$?
if [ "$status" -ne 0 ]; then
  fail "a burst through the stream exited with $status"; sed 's/^/  /' "$work/burst.log"
elif ! python3 - "$work/burst.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] and not d["errors"], d["errors"]
p = d["phases"][1]
assert p["kind"] == "burst", p["kind"]
assert p["deliveries_received"] == p["deliveries_expected"] > 0, p
assert p["lost"] == p["duplicated"] == p["misdelivered"] == 0
assert p["notifications_per_second_published"] > 0 and p["seconds_to_last_delivery"] >= p["publish_seconds"] > 0
assert p["server_rss_kb_peak"] >= p["server_rss_kb_before"] > 0 and p["server_vm_hwm_kb"] > 0
PY
then
  fail "the burst's JSON is not what it should be"
else
  echo "ok: a burst through the stream is delivered in full: $(grep -o '[0-9]* of [0-9]* deliveries' "$work/burst.log")"
fi
[ "$failures" -eq 0 ] || exit 1
echo "5 passed, 0 failed"
