#!/usr/bin/env bash
# Installs the Debian packages the browser and web-server tests drive: chromium, nginx with the nchan module (the
# push channel, deploy/nginx.conf), npm for axe-core and pa11y, exiftool (a second, independent reader that proves a
# published photo carries no metadata), and jing and trang (Java) for the Atom schema check; `make check-web` also
# runs the Nu Html Checker, which needs the Java runtime jing brings.
# Idempotent: does nothing when all are there. Uses sudo when not root.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_nchan_module.so ] || need+=(libnginx-mod-nchan)  # the live channel's pub/sub engine
command -v npm >/dev/null || need+=(npm)  # installs axe-core and pa11y for the accessibility tests
command -v exiftool >/dev/null || need+=(libimage-exiftool-perl)  # tests/test_pictures.py: no GPS comes out
command -v jing >/dev/null || need+=(jing)  # RFC 4287's RELAX NG schema, checked on the feeds (tests/atom/)
command -v trang >/dev/null || need+=(trang)  # the schema's compact syntax to XML, to read its Schematron rules
command -v java >/dev/null || need+=(default-jre-headless)  # jing, trang and the Nu Html Checker (make check-web)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null; then
  echo "system-packages: apt-get not found; install ${need[*]} by hand" >&2
  exit 1
fi
echo "system-packages: installing ${need[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
