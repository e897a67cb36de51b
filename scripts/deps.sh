#!/usr/bin/env bash
# Installs what hvemu needs to build and test, if anything is missing (Debian/Ubuntu: apt-get).
# macOS (Homebrew): brew install cmake pkg-config zydis sdl2 libelf criterion
# Windows (MSYS2 UCRT64): pacman -S mingw-w64-ucrt-x86_64-{cmake,pkgconf,zydis,SDL2,libelf,criterion}
set -euo pipefail
pkgs=(build-essential cmake pkg-config libzydis-dev libsdl2-dev libelf-dev libcriterion-dev)
if [ "${1:-}" = "--linux-test" ]; then
  # The Linux boot test boots Debian's own kernel with a busybox initramfs.
  pkgs+=(linux-image-amd64 busybox-static cpio)
fi
command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "hvemu: installing ${missing[*]}" >&2
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
