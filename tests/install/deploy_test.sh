#!/usr/bin/env bash
# Checks the deploy files: `systemd-analyze verify` on the unit, `nginx -t` on a throwaway nginx configuration
# that includes the site file (with a self-signed certificate in place of the placeholders), and a
# hadolint-free sanity check of the Containerfile. Nothing of the system's nginx or systemd is touched.
set -euo pipefail
source_dir=$1 build_bin=${2:-}
deploy=$source_dir/deploy
fail() { echo "FAIL: $*"; exit 1; }
for tool in systemd-analyze nginx openssl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs systemd, nginx and openssl)"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- systemd: the unit verifies with its ExecStart binary and user present. systemd-analyze checks that the
# executable exists; the unit runs /bin/sh, which runs /usr/bin/yunity-sockets.
cp "$deploy/yunity-sockets.service" "$work/yunity-sockets.service"
SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work/yunity-sockets.service" > "$work/verify.log" 2>&1 \
  || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
# verify returns 0 for some problems it prints (unknown keys in some versions): nothing may be printed about the unit.
if grep -i 'yunity-sockets.service' "$work/verify.log"; then fail "systemd-analyze verify complained"; fi
for key in 'User=yunity-sockets' 'Restart=always' 'EnvironmentFile=-/etc/default/yunity-sockets' 'NoNewPrivileges=yes' \
    'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'LimitNOFILE=65536'; do
  grep -qx "$key" "$deploy/yunity-sockets.service" || fail "the unit lacks $key"
done
if grep -q '^ExecReload' "$deploy/yunity-sockets.service"; then fail "the unit has an ExecReload, but reload is not supported"; fi
grep -q -- '-w 5090 -p 5091' "$deploy/yunity-sockets.service" || fail "the unit does not use ports 5090/5091"
# The ExecStart command line, run by sh as systemd would, passes --config only when the file exists.
exec_start=$(sed -n 's/^ExecStart=\/bin\/sh -c //p' "$deploy/yunity-sockets.service")
eval "parts=($exec_start)"
script=${parts[0]//\$\$/\$}   # systemd turns "$$" into "$"
[ -n "$script" ] || fail "cannot read the ExecStart script"
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "$@"\n' > "$work/bin/yunity-sockets"; chmod +x "$work/bin/yunity-sockets"
args=$(YUNITY_ARGS='--log-level debug --bind 127.0.0.1' sh -c "${script//\/usr\/bin\/yunity-sockets/$work/bin/yunity-sockets}" "${parts[1]}")
expected='-w 5090 -p 5091 --log-level debug --bind 127.0.0.1'
[ -f /etc/yunity-sockets/config.json ] && expected='-w 5090 -p 5091 --config /etc/yunity-sockets/config.json --log-level debug --bind 127.0.0.1'
[ "$args" = "$expected" ] || fail "ExecStart runs 'yunity-sockets $args', expected '$expected'"
echo "systemd unit ok"

# --- nginx: a private prefix whose nginx.conf includes the site; the certificate placeholders become a
# throwaway self-signed certificate. nginx -t also resolves the upstream and map.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=example.org -keyout "$work/key.pem" -out "$work/cert.pem" \
  > "$work/openssl.log" 2>&1 || { cat "$work/openssl.log"; fail "openssl could not make a certificate"; }
sed -e "s|/etc/ssl/certs/example.org.pem|$work/cert.pem|" -e "s|/etc/ssl/private/example.org.key|$work/key.pem|" \
  "$deploy/nginx-yunity-sockets.conf" > "$work/site.conf"
grep -q "$work/cert.pem" "$work/site.conf" && grep -q "$work/key.pem" "$work/site.conf" || fail "the site's certificate placeholders changed"
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/tmp-body; proxy_temp_path $work/tmp-proxy; fastcgi_temp_path $work/tmp-fcgi;
  uwsgi_temp_path $work/tmp-uwsgi; scgi_temp_path $work/tmp-scgi;
  include $work/site.conf;
}
CONF
nginx -t -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" > "$work/nginx-t.log" 2>&1 \
  || { cat "$work/nginx-t.log"; fail "nginx -t rejected the site"; }
cat "$work/nginx-t.log"
for key in ip_hash 'proxy_buffering off' 'proxy_set_header Upgrade $http_upgrade' 'proxy_read_timeout' 'socket\\.io|socket'; do
  grep -q -- "$key" "$deploy/nginx-yunity-sockets.conf" || fail "the site lacks '$key'"
done
echo "nginx site ok"

# --- Containerfile: no container runtime here and hadolint is not packaged in Debian 12: check what can be
# checked without them (base image, the package install, the entry point with the standard ports).
if command -v hadolint >/dev/null; then
  hadolint "$deploy/Containerfile" || fail "hadolint"
else
  echo "hadolint is not installed (not packaged in Debian 12): structural checks only"
fi
grep -q '^FROM debian:12' "$deploy/Containerfile" || fail "the Containerfile is not Debian 12 based"
grep -q '^USER yunity-sockets' "$deploy/Containerfile" || fail "the Containerfile runs as root"
grep -q '^ENTRYPOINT \["/usr/bin/yunity-sockets", "-w", "5090", "-p", "5091"\]' "$deploy/Containerfile" || fail "Containerfile ENTRYPOINT"
echo "deploy test passed"
