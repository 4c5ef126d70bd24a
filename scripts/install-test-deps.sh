#!/usr/bin/env bash
# Installs the system packages the test suite drives that a fresh machine lacks: HAProxy, the
# load balancer the scale-out test puts in front of three replicas. Pinned to a release series
# (Debian's point updates within it stay installable); does nothing when it is already there.
#
#   scripts/install-test-deps.sh
set -euo pipefail

haproxy_series=2.6 # Debian 12's HAProxy

packages=()
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  packages+=("haproxy=$haproxy_series.*")
fi
[ ${#packages[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null || {
  echo "install-test-deps: apt-get is needed to install ${packages[*]}; install them by other means" >&2
  exit 1
}
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "==> installing ${packages[*]}" >&2
"${sudo[@]}" apt-get update -qq >&2
# No service is started for the package: the tests run their own instances.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
