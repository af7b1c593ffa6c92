#!/bin/sh
# Installs the peer locks the benchmark compares against (Debian packages), when missing:
# abseil (libabsl-dev), oneTBB (libtbb-dev), Concurrency Kit (libck-dev). Runs apt-get update
# once first. Where that is impossible (no root, no apt, no network) it prints a note and the
# benchmark builds without those contenders, printing which it skipped.
set -u
want=""
for pkg in libabsl-dev libtbb-dev libck-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || want="$want $pkg"
done
if [ -z "$want" ]; then
    echo "bench/setup.sh: peer packages already installed (libabsl-dev libtbb-dev libck-dev)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench/setup.sh: note: no apt-get here; skipping peers:$want"
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
        echo "bench/setup.sh: note: not root and no password-less sudo; skipping peers:$want"
        exit 0
    fi
fi
echo "bench/setup.sh: installing$want"
if ! $sudo apt-get update -qq; then
    echo "bench/setup.sh: note: apt-get update failed (offline?); skipping peers:$want"
    exit 0
fi
for pkg in $want; do
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; then
        echo "bench/setup.sh: note: could not install $pkg; its contenders will be skipped"
    fi
done
exit 0
