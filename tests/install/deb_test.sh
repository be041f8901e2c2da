#!/usr/bin/env bash
# Builds the Debian package with CPack, installs it with apt-get, checks its layout, dependencies and user, runs
# the installed /usr/bin/yunity-sockets against a real redis-server and serves real socket.io clients, then
# removes the package. Needs root (it installs a package): CI runs the tests as root.
set -euo pipefail
build_dir=$1 source_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; [ -f "${work:-/nonexistent}/server.log" ] && sed 's/^/  server: /' "$work/server.log"; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "this test installs a .deb with apt-get and must run as root (it runs as uid $(id -u))"
for tool in cpack apt-get dpkg-deb redis-server redis-cli node curl setpriv; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done
if dpkg-query -W -f='${Status}' yunity-sockets 2>/dev/null | grep -q 'install ok installed'; then
  fail "a yunity-sockets package is already installed on this machine: not touching it (apt-get remove yunity-sockets first)"
fi

work=$(mktemp -d)
chmod 755 "$work"   # apt's _apt sandbox user reads the .deb from here
server_pid="" redis_pid="" installed=""
cleanup() {
  local status=$?
  set +e
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  [ -n "$redis_pid" ] && { kill -9 "$redis_pid"; wait "$redis_pid"; } 2>/dev/null
  [ -n "$installed" ] && DEBIAN_FRONTEND=noninteractive apt-get remove -y -q yunity-sockets >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

(cd "$build_dir" && cpack -G DEB -B "$work/pkg") > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/pkg/yunity-sockets_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$work/cpack.log"; fail "cpack made no yunity-sockets_*.deb"; }
echo "built $(basename "$deb")"

# Layout and metadata, before installing.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$work/files"
for f in /usr/bin/yunity-sockets /usr/lib/yunity-sockets/plugins/socketio.so \
    /usr/lib/yunity-sockets/plugins/redis-session.so /usr/lib/yunity-sockets/plugins/redis-pubsub.so \
    /usr/lib/yunity-sockets/plugins/admin-http.so /usr/include/yunity/plugin.hpp \
    /usr/lib/cmake/YunitySockets/YunitySocketsConfig.cmake /usr/share/yunity-sockets/config.example.json \
    /usr/share/yunity-sockets/deploy/yunity-sockets.service /usr/share/yunity-sockets/deploy/nginx-yunity-sockets.conf \
    /usr/share/yunity-sockets/deploy/Containerfile /usr/share/yunity-sockets/deploy/yunity-sockets.default; do
  grep -qx "$f" "$work/files" || { cat "$work/files"; fail "the package lacks $f"; }
done
grep -q '/libyunity-asio\.so$' "$work/files" || fail "the package lacks libyunity-asio.so"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libboost-filesystem1.81.0 libboost-program-options1.81.0 libboost-url1.81.0 libhiredis0.14 libspdlog1.10 \
    libfmt9 libstdc++6 libc6 adduser; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib"
done
dpkg-deb -I "$deb" postinst > "$work/postinst" || fail "the package has no postinst"
grep -q 'adduser --system' "$work/postinst" || fail "the postinst does not create the system user"

DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" > "$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
installed=1
getent passwd yunity-sockets >/dev/null || fail "no yunity-sockets user after installing"
/usr/bin/yunity-sockets --version || fail "the installed binary does not run"
if ldd /usr/bin/yunity-sockets | grep 'not found'; then fail "the installed binary misses a library"; fi
for p in /usr/lib/yunity-sockets/plugins/*.so; do
  if ldd "$p" | grep 'not found'; then fail "$p misses a library"; fi
done

# A real redis on a free port, the installed server as the package's user (setpriv execs it: SIGTERM reaches
# it directly) with the example config, real socket.io clients.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$redis_port" ping >/dev/null || fail "redis-server did not start"

setpriv --reuid=yunity-sockets --regid=yunity-sockets --clear-groups -- /usr/bin/yunity-sockets -w 0 -p 0 --redis "redis://127.0.0.1:$redis_port/0" \
  --config /usr/share/yunity-sockets/config.example.json > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do grep -q 'for admin requests' "$work/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) for socket.io clients.*/\1/p' "$work/server.log" | head -1)
admin=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) for admin requests.*/\1/p' "$work/server.log" | head -1)
[ -n "$port" ] && [ -n "$admin" ] || fail "the installed server did not start"
[ "$(ps -o user= -p "$server_pid")" = yunity-sockets ] || fail "the server does not run as yunity-sockets"
grep -q 'running with 4 plugins' "$work/server.log" || fail "the stock plugins were not loaded from /usr/lib/yunity-sockets/plugins"
if grep -q 'names no loaded plugin' "$work/server.log"; then fail "config.example.json has a section for a plugin not in the stock set"; fi
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null || fail "/readyz is not 200 with redis up"
node "$here/deliver_client.mjs" "http://127.0.0.1:$port" "$redis_port" || fail "socket.io clients of the installed server"
# Read whole, then searched: `curl | grep -q` under pipefail fails whenever grep stops reading first (curl then
# dies of SIGPIPE), which a longer /metrics made happen now and then.
metrics=$(curl -sf "http://127.0.0.1:$admin/metrics") || fail "GET /metrics"
grep -q '^yunity_socketio_deliveries_total [1-9]' <<<"$metrics" || fail "no deliveries in /metrics"

kill -TERM "$server_pid"
status=0; wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"

DEBIAN_FRONTEND=noninteractive apt-get remove -y -q yunity-sockets > "$work/apt-remove.log" 2>&1 || { cat "$work/apt-remove.log"; fail "apt-get remove"; }
installed=""
[ ! -e /usr/bin/yunity-sockets ] || fail "/usr/bin/yunity-sockets is still there after apt-get remove"
[ ! -e /usr/lib/yunity-sockets/plugins/socketio.so ] || fail "the plugins are still there after apt-get remove"
echo "deb test passed"
