#!/usr/bin/env bash
# base.sh: make sure the stack's base image (Debian 12 minbase built with
# debootstrap, no registry needed) is in podman's storage, and print its tag.
#
# The image is keyed by what goes into it (suite, variant, package list,
# mirror): the tag is localhost/autopilot-base:KEY, and its tarball is cached
# as $AUTOPILOT_IMAGE_CACHE/autopilot-base-KEY.tar (default
# /var/cache/autopilot/images), so a machine (or a CI cache of that path)
# debootstraps once: next time the tag is reused, or the tarball imported.
# Changing the package list changes the key, hence a new image.
set -euo pipefail
SUITE=bookworm
VARIANT=minbase
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# ca-certificates: apt over https and TLS clients in the tiers; the rest of
# what the tiers need comes in their own Dockerfiles.
INCLUDE=ca-certificates
CACHE="${AUTOPILOT_IMAGE_CACHE:-/var/cache/autopilot/images}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}"

key=$(printf '%s\n' "$SUITE" "$VARIANT" "$INCLUDE" "$MIRROR" | sha256sum | cut -c1-12)
tag="localhost/autopilot-base:$key"
tarball="$CACHE/autopilot-base-$key.tar"

log() { echo "base.sh: $*" >&2; }

if podman image exists "$tag"; then
  echo "$tag"
  exit 0
fi
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { log "needs debootstrap (scripts/install-deps.sh)"; exit 1; }
  mkdir -p "$CACHE"
  rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  chmod 755 "$rootfs"  # the image's /: mktemp made it 0700
  trap 'rm -rf "$rootfs" "$tarball.part"' EXIT
  log "debootstrap $SUITE ($VARIANT, +$INCLUDE) into $rootfs"
  debootstrap --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
    { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  # Smaller and reproducible enough: no apt lists or caches in the image.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
fi
log "importing $tarball as $tag"
podman import --quiet "$tarball" "$tag" >/dev/null
echo "$tag"
