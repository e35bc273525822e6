#!/usr/bin/env bash
# Machine setup for the local deploy flow (run as root; idempotent: a second run changes nothing).
#   - apt: the CNCF registry (docker-registry), skopeo, buildah, podman, runc, debootstrap
#   - /etc/containers/containers.conf: runc (crun fails here: "cgroups in hybrid mode not supported") and
#     nofile/nproc ulimits (podman's defaults are refused by this kernel's limits)
#   - /etc/containers/storage.conf: overlay storage (~1 s per container start; vfs copies every layer, ~12 s)
# .ci/run calls this before `make test`; on a developer machine run it once: `sudo deploy/local/install.sh`.
set -euo pipefail

packages=(docker-registry skopeo buildah podman runc debootstrap uidmap)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install.sh: missing apt packages (${missing[*]}); run as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian starts the registry as a system service on :5000 when a service manager exists; mlship runs its own
# (`make registry`, data in a directory you choose), so the packaged one is stopped if it runs.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

write_if_changed() {  # write stdin to $1 only when the content differs (keeps the file's mtime otherwise)
    local target=$1 content
    content=$(cat)
    if [[ ! -f $target ]] || [[ "$(cat "$target")" != "$content" ]]; then
        mkdir -p "$(dirname "$target")"
        printf '%s\n' "$content" >"$target.partial"
        mv "$target.partial" "$target"
        echo "install.sh: wrote $target"
    fi
}

if [[ $(id -u) -eq 0 ]]; then
    write_if_changed /etc/containers/containers.conf <<'CONF'
# Written by mlship deploy/local/install.sh
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    write_if_changed /etc/containers/storage.conf <<'CONF'
# Written by mlship deploy/local/install.sh
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
fi
echo "install.sh: podman $(podman --version | awk '{print $3}'), skopeo $(skopeo --version | awk '{print $3}'), buildah $(buildah --version | awk '{print $3}')"
