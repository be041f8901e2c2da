#!/usr/bin/env bash
# Installs the build into a fresh prefix, builds examples/event-logger against the installed SDK (out of tree,
# with find_package), and runs the installed yunity-sockets with the stock set plus that plugin.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; [ -f "$work/server.log" ] && sed 's/^/  server: /' "$work/server.log"; exit 1; }

prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" > "$work/install.log" || fail "cmake --install"
exe=$prefix/bin/yunity-sockets
[ -x "$exe" ] || fail "no $exe"

# The executable links none of the plugins: they are loaded at run time.
if ldd "$exe" | grep -E 'socketio|redis-session|redis-pubsub|admin-http'; then fail "the executable links a plugin"; fi

. "$(dirname "$0")/same_build.sh"
mapfile -t build_args < <(same_build "$build_dir")
cmake -S "$source_dir/examples/event-logger" -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${build_args[@]}" > "$work/example.log" 2>&1 || { cat "$work/example.log"; fail "configure example"; }
cmake --build "$work/example" > "$work/example-build.log" 2>&1 || { cat "$work/example-build.log"; fail "build example"; }
plugin=$work/example/event-logger.so
[ -f "$plugin" ] || fail "no $plugin"

# The stock set comes from the install prefix with no flags; the example is added by path. Redis need not
# be up for this: the redis plugins keep retrying.
"$exe" -w 0 -p 0 --redis redis://127.0.0.1:1/0 \
  --plugins "socketio,redis-session,redis-pubsub,admin-http,$plugin" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q 'for socket.io clients' "$work/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) for socket.io clients.*/\1/p' "$work/server.log" | head -1)
[ -n "$port" ] || fail "the installed server did not start"
grep -q "loaded plugin\|running with 5 plugins" "$work/server.log" || fail "not all plugins loaded"
grep -q '\[event-logger\] logging every event' "$work/server.log" || fail "the example plugin did not start"

# An Engine.IO 3 handshake opens a Socket.IO connection at once: the example logs the event.
curl -sf "http://127.0.0.1:$port/socket.io/?EIO=3&transport=polling" > /dev/null || fail "handshake"
for _ in $(seq 100); do grep -q 'event-logger.*ConnectionOpened' "$work/server.log" && break; sleep 0.05; done
grep -q 'event-logger.*ConnectionOpened' "$work/server.log" || fail "the example plugin saw no ConnectionOpened"

kill -TERM "$server_pid"
status=0; wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
grep -q '\[event-logger\] logged [0-9]* events' "$work/server.log" || fail "the example plugin was not stopped"
echo "install test passed"
