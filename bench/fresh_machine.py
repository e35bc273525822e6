"""A newcomer's machine: the README's two commands, as written, in a clean Debian root filesystem.

Makes (once, then cached as a tarball under ~/.cache/mlship/fresh-machine/) a Debian bookworm root with only
what the README asks of a machine: `debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,
make,git,ca-certificates`. Each run unpacks a fresh copy, clones the repository (its committed HEAD) into
/root/mlship there, and runs the commands of README.md's "The two commands" block in it, as root, one after
the other, each in its own throw-away namespaces:

  * a new mount namespace (the root's /proc, /sys, /dev, /run mounts vanish with it), a new PID namespace
    (every process a step leaves behind, podman's conmon included, is killed when the step ends) and a new
    network namespace reaching the package registries through slirp4netns, so the root's podman, its
    bridge, its iptables rules and its loopback ports never meet the host's;
  * `chroot` with a clean environment: PATH=/usr/sbin:/usr/bin:/sbin:/bin, HOME=/root, LANG=C.UTF-8, and
    only the host's CA-bundle and proxy variables (this network inspects TLS with its own CA: the host's
    local CA certificates are copied into the root as well).

Nothing else of the host reaches the root: no Python, no uv, no package cache (every wheel is downloaded).

Usage (as root; needs debootstrap, slirp4netns, unshare, chroot on the host):
  .venv/bin/python bench/fresh_machine.py [--quick] [--keep] [--root PATH]
    --quick  `make test PYTEST_ARGS="-x -k 'machine or facts'"`: the machine set-up path and a few tests
    --keep   leave the root (and its logs) for inspection
    --root   the repository to clone (default: this one)
Prints per step its time, exit code and last lines of output; exits 1 when a step fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = "bookworm"
INCLUDE = ("python3", "python3-venv", "python3-pip", "make", "git", "ca-certificates")
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlship" / "fresh-machine"
QUICK_PYTEST_ARGS = "-x -k 'machine or facts'"
#: Host variables the root gets: how this network is reached (proxies) and which CA bundle to trust.
NETWORK_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "NODE_EXTRA_CA_CERTS",
    "GIT_SSL_CAINFO",
)
HOST_TOOLS = {"debootstrap": "debootstrap", "slirp4netns": "slirp4netns", "unshare": "util-linux"}
HOST_TOOLS |= {"chroot": "coreutils", "tar": "tar", "git": "git"}
STEP_TIMEOUT = 3 * 3600
TAIL = 15


class UsageError(Exception):
    """Bad arguments or a host that cannot run the benchmark: one line on stderr, exit 2."""


@dataclass(frozen=True)
class Step:
    command: str
    seconds: float
    returncode: int
    log: Path


def readme_commands(readme: str) -> list[str]:
    """The commands of the README's "The two commands" console block, comments dropped."""
    lines = readme.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower() == "## the two commands")
        fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
        end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    except StopIteration:
        raise UsageError("README.md has no '## The two commands' section with a console block") from None
    commands = [
        shlex.join(shlex.split(line.strip()[2:], comments=True))
        for line in lines[fence + 1 : end]
        if line.strip().startswith("$ ")
    ]
    if not commands:
        raise UsageError("README.md's 'The two commands' block has no '$ ' command line")
    return commands


def quick(commands: list[str]) -> list[str]:
    """--quick: the same commands, the test run limited to the machine set-up and a few fast tests."""
    return [f'{c} PYTEST_ARGS="{QUICK_PYTEST_ARGS}"' if c == "make test" else c for c in commands]


def root_environment(host: dict[str, str]) -> dict[str, str]:
    """A login's environment on a fresh machine, plus the host's network (proxy, CA bundle) variables."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
    env |= {name: host[name] for name in NETWORK_VARIABLES if host.get(name)}
    return env


def run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


def base_tarball() -> tuple[Path, float | None]:
    """The pristine root as a tarball (debootstrap only when it is not cached); seconds spent making it."""
    key = hashlib.sha256(f"{SUITE} {MIRROR} {','.join(INCLUDE)}".encode()).hexdigest()[:12]
    tarball = CACHE / f"{SUITE}-minbase-{key}.tar"
    if tarball.exists():
        return tarball, None
    CACHE.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="mlship-debootstrap-", dir="/var/tmp"))
    try:
        include = ",".join(INCLUDE)
        run(
            ["debootstrap", "--variant=minbase", f"--include={include}", SUITE, str(scratch / "root"), MIRROR]
        )
        partial = tarball.with_suffix(".partial")
        run(["tar", "--numeric-owner", "-C", str(scratch / "root"), "-cf", str(partial), "."])
        partial.rename(tarball)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tarball, time.perf_counter() - start


def fresh_root(tarball: Path, work: Path, source: Path) -> tuple[Path, str]:
    """Unpack a fresh copy of the root, give it this network's CA certificates and a clone of `source`."""
    root = work / "root"
    root.mkdir()
    run(["tar", "--numeric-owner", "-C", str(root), "-xpf", str(tarball)])
    # This network inspects TLS with its own CA: trust it the Debian way (kept by update-ca-certificates).
    local_cas = Path("/usr/local/share/ca-certificates")
    for cert in local_cas.glob("*.crt") if local_cas.is_dir() else []:
        shutil.copy2(cert, root / "usr/local/share/ca-certificates" / cert.name)
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
    # slirp4netns's DNS forwarder; the names every machine resolves.
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text("nameserver 10.0.2.3\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
    clone = root / "root" / "mlship"
    run(["git", "clone", "--quiet", "--no-hardlinks", str(source), str(clone)])
    commit = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return root, commit


INNER = """set -euo pipefail
read -r _ || true
exec </dev/null
root=$1 command=$2
shift 2
# The root must be a mount point: podman's layer extraction remounts / private inside its own chroot
# ("remount /, flags: 0x44000: invalid argument" on a plain directory).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
chroot "$root" /usr/bin/env -i "$@" /bin/bash -c "cd /root/mlship && $command"
"""


def in_root(root: Path, command: str, env: dict[str, str], log: Path) -> Step:
    """Run `command` in /root/mlship inside `root`: fresh mount, PID and network namespaces, chroot."""
    assignments = [f"{key}={value}" for key, value in env.items()]
    unshare = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--net"]
    start = time.perf_counter()
    with log.open("w") as out:
        session = subprocess.Popen(
            [*unshare, "bash", "-c", INNER, "inner", str(root), command, *assignments],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        slirp = None
        try:
            own = Path("/proc/self/ns/net").readlink()
            deadline = time.monotonic() + 10
            while Path(f"/proc/{session.pid}/ns/net").readlink() == own:
                if time.monotonic() > deadline:
                    raise RuntimeError("unshare did not enter a new network namespace")
                time.sleep(0.01)
            ready_read, ready_write = os.pipe()
            network = ["--configure", "--mtu=65520", "--disable-host-loopback", f"--ready-fd={ready_write}"]
            slirp = subprocess.Popen(
                ["slirp4netns", *network, str(session.pid), "tap0"],
                pass_fds=(ready_write,),
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
            os.close(ready_write)
            with os.fdopen(ready_read, "rb") as ready:
                if not ready.read(1):
                    raise RuntimeError("slirp4netns did not start (see the log)")
            assert session.stdin is not None
            session.stdin.write(b"go\n")
            session.stdin.close()
            returncode = session.wait(timeout=STEP_TIMEOUT)
        finally:
            if session.poll() is None:
                session.kill()  # --kill-child: the namespace's first process, and so every one, dies with it
                session.wait()
            if slirp is not None:
                slirp.terminate()
                slirp.wait()
    return Step(command, time.perf_counter() - start, returncode, log)


def report(step: Step) -> None:
    status = "ok" if step.returncode == 0 else f"FAILED (exit {step.returncode})"
    print(f"\n== `{step.command}`: {step.seconds:.0f} s ({step.seconds / 60:.1f} min), {status}", flush=True)
    lines = step.log.read_text(errors="replace").splitlines()
    for line in lines[-TAIL:]:
        print(f"   | {line}")
    print(f"   full output: {step.log}", flush=True)


def check_host() -> None:
    if os.geteuid() != 0:
        raise UsageError("run as root: debootstrap, mount namespaces and chroot need it")
    missing = sorted({package for tool, package in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise UsageError(
            f"this host lacks tools the benchmark uses; install them: apt-get install {' '.join(missing)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="make run, then only the machine and facts tests"
    )
    parser.add_argument("--keep", action="store_true", help="leave the root for inspection")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository to clone (default: this one)")
    args = parser.parse_args(argv)
    try:
        check_host()
        source = args.root.resolve()
        if not (source / "README.md").is_file():
            raise UsageError(f"{source} has no README.md: --root takes a clone of this repository")
        commands = readme_commands((source / "README.md").read_text())
    except UsageError as error:
        print(f"fresh_machine: {error}", file=sys.stderr)
        return 2
    if args.quick:
        commands = quick(commands)

    tarball, made = base_tarball()
    print(
        f"root filesystem: {tarball}" + (f" (debootstrap {made:.0f} s)" if made else " (cached)"), flush=True
    )
    work = Path(tempfile.mkdtemp(prefix="mlship-fresh-", dir="/var/tmp"))
    logs = CACHE / "logs"  # the last run's full output, kept after the root is gone
    logs.mkdir(parents=True, exist_ok=True)
    steps: list[Step] = []
    try:
        start = time.perf_counter()
        root, commit = fresh_root(tarball, work, source)
        print(f"fresh copy + clone of {source} at {commit}: {time.perf_counter() - start:.0f} s -> {root}")
        env = root_environment(dict(os.environ))
        print("environment: " + " ".join(sorted(env)), flush=True)
        for number, command in enumerate(commands, 1):
            step = in_root(root, command, env, logs / f"step{number}.log")
            steps.append(step)
            report(step)
            if step.returncode != 0:
                break
    finally:
        if args.keep:
            print(f"\nkept: {work / 'root'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| step | time | exit |\n|---|---|---|")
    for step in steps:
        print(f"| `{step.command}` | {step.seconds:.0f} s | {step.returncode} |")
    passed = len(steps) == len(commands) and all(step.returncode == 0 for step in steps)
    print("PASSED: the README's commands work on a fresh machine" if passed else "FAILED", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
