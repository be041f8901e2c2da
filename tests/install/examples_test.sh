#!/usr/bin/env bash
# Installs the build into a fresh prefix, builds examples/delivery-log and examples/static-sessions against the
# installed SDK (out of tree, with find_package), and runs each in the installed yunity-sockets in embedded
# mode, no redis: a client authenticates over Engine.IO 3 polling (plain curl), a notification is POSTed to
# /publish, and each example does its job.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
server_pid=""
log=""
trap '[ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; [ -n "$log" ] && [ -f "$log" ] && sed 's/^/  server: /' "$log"; exit 1; }
unset YUNITY_ADMIN_TOKEN

prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" > "$work/install.log" || fail "cmake --install"
exe=$prefix/bin/yunity-sockets
[ -x "$exe" ] || fail "no $exe"
for plugin in memory-session http-publish; do
  [ -n "$(find "$prefix" -name "$plugin.so")" ] || fail "the $plugin plugin is not installed"
done

. "$(dirname "$0")/same_build.sh"
mapfile -t build_args < <(same_build "$build_dir")
build_example() {
  local name=$1
  cmake -S "$source_dir/examples/$name" -B "$work/$name" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "${build_args[@]}" > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; fail "configure $name"; }
  cmake --build "$work/$name" > "$work/$name-build.log" 2>&1 || { cat "$work/$name-build.log"; fail "build $name"; }
  [ -f "$work/$name/$name.so" ] || fail "no $work/$name/$name.so"
}

# start_server LOG PLUGINS CONFIG: sets port, admin.
start_server() {
  log=$1
  "$exe" -w 0 -p 0 --plugins "$2" --config "$3" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    grep -q 'for socket.io clients' "$log" && grep -q 'for admin requests' "$log" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) for socket.io clients.*/\1/p' "$log" | head -1)
  admin=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) for admin requests.*/\1/p' "$log" | head -1)
  [ -n "$port" ] && [ -n "$admin" ] || fail "the installed server did not start"
}

stop_server() {
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  [ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
}

# A socket.io client in curl: an Engine.IO 3 polling handshake (which connects the default namespace), then an
# `authenticate` packet, framed <length>:<packet>. Sets sid.
authenticate() {
  local session=$1 handshake packet
  handshake=$(curl -sf "http://127.0.0.1:$port/socket.io/?EIO=3&transport=polling") || fail "handshake"
  sid=$(printf '%s' "$handshake" | sed -n 's/.*"sid":"\([^"]*\)".*/\1/p')
  [ -n "$sid" ] || fail "no sid in the handshake: $handshake"
  packet="42[\"authenticate\",{\"sessionId\":\"$session\"}]"
  curl -sf -X POST -H 'Content-Type: text/plain;charset=UTF-8' --data-binary "${#packet}:$packet" \
    "http://127.0.0.1:$port/socket.io/?EIO=3&transport=polling&sid=$sid" > /dev/null || fail "authenticate"
}

# Publishes until the notification reaches one connection: authenticating completes on the server's loop a
# moment after the POST is answered. A notification that reaches nobody is not delivered, so nothing is logged
# for the attempts before.
publish_to_one() {
  local body=$1 answer
  for _ in $(seq 100); do
    answer=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary "$body" "http://127.0.0.1:$admin/publish")
    [ "$answer" = '{"connections":1}' ] && return 0
    [ "$answer" = '{"connections":0}' ] || fail "POST /publish answered: $answer"
    sleep 0.05
  done
  fail "the notification never reached the client"
}

# The next long-poll of the client must carry the message.
receive() {
  local expected=$1 got
  got=$(curl -sf --max-time 10 "http://127.0.0.1:$port/socket.io/?EIO=3&transport=polling&sid=$sid") || fail "poll"
  case "$got" in *"$expected"*) ;; *) fail "the client received '$got', not '$expected'" ;; esac
}

build_example delivery-log
build_example static-sessions

# delivery-log declares its settings with the installed SDK's table: the installed server's reference shows them,
# and they are checked at startup.
reference=$("$exe" --config-reference --plugins "$work/delivery-log/delivery-log.so") || fail "--config-reference"
grep -qF '| `file` | a non-empty string | required | the file the lines are appended to (created if missing) |' \
  <<<"$reference" || fail "delivery-log's settings are not in the reference: $reference"
refusal=$("$exe" -w 0 -p 0 --plugins "$work/delivery-log/delivery-log.so" 2>&1) && fail "delivery-log ran without a file"
grep -q 'plugin delivery-log: setting "file" is required (a non-empty string)' <<<"$refusal" \
  || fail "unexpected refusal: $refusal"

# delivery-log, with memory-session and http-publish: one line for the delivered notification.
echo '{"s-delivery": "u-delivery"}' > "$work/sessions.json"
deliveries=$work/deliveries.jsonl
cat > "$work/delivery.json" <<JSON
{"memory-session": {"file": "$work/sessions.json"}, "delivery-log": {"file": "$deliveries"}}
JSON
start_server "$work/delivery.log" "socketio,memory-session,http-publish,admin-http,$work/delivery-log/delivery-log.so" \
  "$work/delivery.json"
grep -q '\[delivery-log\] writing deliveries to' "$log" || fail "delivery-log did not start"
authenticate s-delivery
payload='{"data":"hello"}'
publish_to_one "{\"users\":[\"u-delivery\"],\"data\":\"hello\"}"
# The notification's offset (http-publish's run id and sequence) follows as the last argument.
receive "42[\"message\",$payload,\""
for _ in $(seq 100); do [ -s "$deliveries" ] && break; sleep 0.05; done
[ "$(wc -l < "$deliveries")" -eq 1 ] || fail "expected one line in $deliveries: $(cat "$deliveries" 2>/dev/null)"
grep -Eq "^\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z\",\"event\":\"message\",\"connections\":1,\"bytes\":${#payload}\}$" \
  "$deliveries" || fail "unexpected line in $deliveries: $(cat "$deliveries")"
stop_server
grep -q '\[delivery-log\] wrote 1 deliveries' "$log" || fail "delivery-log was not stopped"

# static-sessions in place of a session plugin: its file resolves the session, the client gets the message.
echo '{"s-static": "u-static", "s-number": 79}' > "$work/static.json"
echo "{\"static-sessions\": {\"file\": \"$work/static.json\"}}" > "$work/static-config.json"
start_server "$work/static.log" "socketio,http-publish,admin-http,$work/static-sessions/static-sessions.so" \
  "$work/static-config.json"
grep -q '\[static-sessions\] resolving 2 sessions' "$log" || fail "static-sessions did not start"
authenticate s-static
publish_to_one '{"users":["u-static"],"data":"from a static session"}'
receive '42["message",{"data":"from a static session"},"'
authenticate s-number
publish_to_one '{"users":[79],"data":79}'
receive '42["message",{"data":79},"'
curl -sf "http://127.0.0.1:$admin/readyz" > /dev/null || fail "not ready"
stop_server
echo "examples test passed"
