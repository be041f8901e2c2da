#!/usr/bin/env bash
# A real nginx (private prefix, free port) runs deploy/nginx-yunity-sockets.conf without TLS in front of two
# yunity-sockets instances sharing one real redis-server; real socket.io clients (4.x and 2.x, long-polling,
# websocket, and the upgrade) connect through it under /socket.io/ and /socket/ and receive their message.
set -euo pipefail
bin=$1 source_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
fail() {
  echo "FAIL: $*"
  for f in "$work"/a.log "$work"/b.log "$work"/logs/error.log; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f"; done
  exit 1
}
work=$(mktemp -d)
for tool in nginx redis-server redis-cli node; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done
pids=()
stop_nginx() { [ -s "$work/nginx.pid" ] && kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null; for _ in $(seq 100); do [ -e "$work/nginx.pid" ] || break; sleep 0.05; done; }
cleanup() {
  local status=$?
  set +e
  stop_nginx
  for p in "${pids[@]}"; do { kill -9 "$p"; wait "$p"; } 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$redis_port" ping >/dev/null || fail "redis-server did not start"

ports=()
for name in a b; do
  "$bin" -w 0 -p 0 --redis "redis://127.0.0.1:$redis_port/0" > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do grep -q 'running with' "$work/$name.log" && break; sleep 0.05; done
  p=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) for socket.io clients.*/\1/p' "$work/$name.log" | head -1)
  [ -n "$p" ] || fail "instance $name did not start"
  ports+=("$p")
done

# The site without TLS: the instances' ports in the upstream, a free port in place of 443 (and of 80, whose
# server block only redirects).
nginx_port=$(free_port) redirect_port=$(free_port)
sed -e "s/127\.0\.0\.1:5090/127.0.0.1:${ports[0]}/" -e "s/127\.0\.0\.1:5092/127.0.0.1:${ports[1]}/" \
    -e '/^ *ssl_/d' -e '/listen \[::\]/d' \
    -e "s/^ *listen 443 ssl http2;/    listen 127.0.0.1:$nginx_port;/" -e "s/^ *listen 80;/    listen 127.0.0.1:$redirect_port;/" \
    "$source_dir/deploy/nginx-yunity-sockets.conf" > "$work/site.conf"
grep -q "listen 127.0.0.1:$nginx_port;" "$work/site.conf" || fail "the site's listen lines changed: update this test"
grep -q "127.0.0.1:${ports[1]}" "$work/site.conf" || fail "the site's upstream servers changed: update this test"
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
daemon on;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 256; }
worker_processes 1;
http {
  access_log off;
  client_body_temp_path $work/tmp-body; proxy_temp_path $work/tmp-proxy; fastcgi_temp_path $work/tmp-fcgi;
  uwsgi_temp_path $work/tmp-uwsgi; scgi_temp_path $work/tmp-scgi;
  include $work/site.conf;
}
CONF
# As shipped (ip_hash), then with the documented alternative: a client-chosen id in the query, hashed.
for balance in ip_hash lb_query; do
  if [ "$balance" = lb_query ]; then
    sed -i 's/^ *ip_hash;/    hash $arg_lb consistent;/' "$work/site.conf"
    grep -q 'hash $arg_lb consistent;' "$work/site.conf" || fail "the site has no ip_hash line: update this test"
    export LB_QUERY=lb
  fi
  rm -f "$work/nginx.pid"
  nginx -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" || fail "nginx did not start ($balance)"
  for _ in $(seq 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.05; done
  for path in /socket.io/ /socket/; do
    echo "--- $balance, $path"
    node "$here/deliver_client.mjs" "http://127.0.0.1:$nginx_port" "$redis_port" "$path" \
      || fail "clients through nginx under $path ($balance)"
  done
  stop_nginx
done
echo "proxy test passed"
