#!/usr/bin/env bash
# Build the `grove-base:bookworm` Docker image without a container registry.
#
# Where `docker pull debian:bookworm-slim` works, use deploy/Dockerfile instead. This script is
# for machines that can reach a Debian package mirror but no registry: it debootstraps a minimal
# Debian bookworm root filesystem, adds what the `grove` binary needs at run time (Debian's
# RocksDB 7.8 shared library, CA certificates, curl for the healthcheck), creates an unprivileged
# `grove` user, and `docker import`s the tree. deploy/Dockerfile.local then starts FROM it.
#
# Usage: deploy/build-base-image.sh [--force]
#   --force            rebuild even if the image already exists
# Environment:
#   GROVE_BASE_IMAGE   image name (default grove-base:bookworm)
#   DEBIAN_MIRROR      mirror URL (default: the one this machine's apt uses, else deb.debian.org)
#   GROVE_BASE_WORKDIR scratch directory for the rootfs (default /var/tmp/grove-base-rootfs)
# Needs root (debootstrap creates device nodes and chroots) and a running Docker engine.
set -euo pipefail

IMAGE="${GROVE_BASE_IMAGE:-grove-base:bookworm}"
SUITE=bookworm
WORKDIR="${GROVE_BASE_WORKDIR:-/var/tmp/grove-base-rootfs}"
# Run-time packages. librocksdb7.8 must match the librocksdb-dev the binary was linked against
# (see ARCHITECTURE.md, "RocksDB build"); its own dependencies (snappy, lz4, zstd, ...) follow.
PACKAGES="ca-certificates,curl,librocksdb7.8,tini"
FORCE=0

for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

log() { echo "[build-base-image] $*" >&2; }

if ! docker info >/dev/null 2>&1; then
    echo "error: no Docker engine reachable (docker info failed)" >&2
    exit 1
fi

if [[ "$FORCE" -eq 0 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE already exists; skipping (use --force to rebuild)"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "error: debootstrap needs root; re-run with sudo" >&2
    exit 1
fi

# Use the mirror this machine's apt already trusts: in sandboxes and corporate networks it is
# often the only one reachable.
detect_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
        [[ -r "$f" ]] || continue
        uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
        if [[ -n "$uri" && "$uri" != *security* ]]; then echo "$uri"; return; fi
    done
    if [[ -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
            /etc/apt/sources.list)
        if [[ -n "$uri" ]]; then echo "$uri"; return; fi
    fi
    echo "http://deb.debian.org/debian"
}
MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"

if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get install -y --no-install-recommends debootstrap >/dev/null
fi

ROOTFS="$WORKDIR/rootfs"
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"
trap 'rm -rf "$ROOTFS"' EXIT

log "debootstrap $SUITE from $MIRROR into $ROOTFS (packages: $PACKAGES)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$WORKDIR/debootstrap.log" 2>&1 || {
    echo "error: debootstrap failed; last lines of $WORKDIR/debootstrap.log:" >&2
    tail -n 30 "$WORKDIR/debootstrap.log" >&2
    exit 1
}

# An unprivileged user owning the data directory; uid 1000 so bind mounts are predictable.
chroot "$ROOTFS" /usr/sbin/groupadd --gid 1000 grove
chroot "$ROOTFS" /usr/sbin/useradd --uid 1000 --gid 1000 --home-dir /var/lib/grove \
    --no-create-home --shell /usr/sbin/nologin grove
mkdir -p "$ROOTFS/var/lib/grove" "$ROOTFS/etc/grove"
chroot "$ROOTFS" /bin/chown grove:grove /var/lib/grove

# Keep the image small: nothing here is needed at run time.
chroot "$ROOTFS" /usr/bin/apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
    "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/*.log "$ROOTFS"/tmp/* \
    "$ROOTFS"/dev/* 2>/dev/null || true
# debootstrap copies the build host's resolver and hostname; Docker injects its own.
: >"$ROOTFS/etc/resolv.conf"
: >"$ROOTFS/etc/hostname"

log "importing as $IMAGE"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --message "grove-base: debootstrap $SUITE minbase + $PACKAGES" \
    - "$IMAGE" >/dev/null

docker image ls "$IMAGE"
log "done"
