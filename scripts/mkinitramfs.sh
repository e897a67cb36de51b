#!/bin/sh
# Builds a small busybox initramfs (newc cpio, gzip) for booting Debian's kernel under hvemu.
#
# usage: scripts/mkinitramfs.sh OUTPUT.cpio.gz
#
# Needs Debian's busybox-static and cpio (and, for the Linux boot tests, linux-image-amd64); when
# one is missing and this runs as root, it installs them with apt-get.
#
# The /init it writes mounts /proc, /sys and /dev, prints "HVEMU-INIT: start", then runs the
# command given after "--" on the kernel command line (Linux hands those words to init as
# arguments), e.g. `--append "console=ttyS0 -- cat /proc/interrupts"`, or by default:
# uname -a; head of /proc/cpuinfo; echo ok. It prints "HVEMU-INIT: done status=N" and powers
# off with `poweroff -f` (hvemu exit status 0).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTPUT.cpio.gz" >&2
    exit 2
fi
out=$1

is_static_busybox() {
    [ -x /bin/busybox ] && LC_ALL=C ldd /bin/busybox 2>&1 | grep -q "not a dynamic executable"
}

missing=""
is_static_busybox || missing="$missing busybox-static"
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing="$missing linux-image-amd64"
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: missing packages:$missing (install with: sudo apt-get install$missing)" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi
is_static_busybox || { echo "$0: /bin/busybox is not the static busybox" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/proc" "$root/sys" \
    "$root/dev" "$root/tmp" "$root/etc" "$root/root"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
done

cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
echo "HVEMU-INIT: start"
if [ $# -gt 0 ]; then
    sh -c "$*"
else
    uname -a
    head -n 8 /proc/cpuinfo
    echo ok
fi
echo "HVEMU-INIT: done status=$?"
poweroff -f
INIT
chmod 755 "$root/init"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 > "$out"
echo "$out: $(wc -c < "$out") bytes" >&2
