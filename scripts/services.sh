#!/usr/bin/env bash
# Install what the test suite talks to, from Debian's packages, when it is missing:
# Chromium and ChromeDriver (the browser tests of the demo page and the plots page) and
# PostgreSQL (the tracking-server test starts its own cluster with scripts/server.sh).
# Needs root or sudo; installs nothing when everything is there.
set -euo pipefail
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
{ command -v pg_createcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; } ||
  missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi
