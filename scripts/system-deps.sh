#!/usr/bin/env bash
# Debian packages the test suite needs, installed only when missing (needs root or sudo).
set -euo pipefail
PACKAGES=(${SHOPBOT_APT_PACKAGES:-})
NEEDED=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || NEEDED+=("$pkg")
done
[ ${#NEEDED[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing Debian packages: ${NEEDED[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${NEEDED[@]}"
