#!/usr/bin/env bash
# The Python base image for local builds, made offline from Debian packages (no image registry needed):
#   debootstrap --variant=minbase bookworm (python3 3.11, venv, CA certificates) -> podman import.
# Cached: does nothing when the image exists (BASE_IMAGE_REBUILD=1 forces a rebuild). The host's CA bundle
# is copied in (this network inspects TLS with its own CA) so the build can install packages from PyPI,
# and uv (the installer BentoML's Dockerfile calls) is copied from the host instead of pip-installed.
set -euo pipefail
image=${1:-${BASE_IMAGE:-localhost/mlship-pybase:bookworm}}
if [[ ${BASE_IMAGE_REBUILD:-0} != 1 ]] && podman image exists "$image"; then
    echo "base-image: $image exists (cached)"
    exit 0
fi
# The uv executable itself, not a wrapper script (pyenv shims, venv launchers): the first ELF binary among the
# one the `uv` Python package ships, the copy `make` installs into tools/uv, pyenv's, and every `uv` on PATH.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
uv_bin=""
for candidate in "$(python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null)" "$here/../../tools/uv/bin/uv" \
    "$(command -v pyenv >/dev/null 2>&1 && pyenv which uv 2>/dev/null)" $(which -a uv 2>/dev/null); do
    if [[ -n $candidate && -f $candidate && $(head -c 4 "$candidate") == $'\x7fELF' ]]; then
        uv_bin=$candidate
        break
    fi
done
if [[ -z $uv_bin ]]; then
    echo "base-image: no uv executable found (pip install uv)" >&2
    exit 1
fi
rootfs=$(mktemp -d /var/tmp/mlship-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
install -m 0755 "$uv_bin" "$rootfs/usr/local/bin/uv"
ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
# Nothing the image never uses: package lists, docs, man pages, apt caches.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -c . | podman import --quiet \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base-image: built $image ($(podman image inspect "$image" --format '{{.Size}}') bytes)"
