"""Arguments and dispatch of ``mlship deploy <action>`` (the logic lives in mlship.deploy.commands)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlship.config import Params

ACTIONS = {
    "push": "push the current commit's image to $MLSHIP_REGISTRY; print its digest",
    "staging": "run IMAGE (default: the current commit's pushed image) in staging, by digest",
    "release": "production := the digest staging ran for the commit tagged VERSION",
    "rollback": "roll ENV back to the previous (or the named) healthy digest",
    "status": "per environment: digest, version, since, previous; drift from the desired state",
    "history": "every deployment of ENV, oldest first",
    "image": "build the current commit's OCI image from its bento (used by `make image`)",
    "registry-up": "run the local registry (used by `make registry`)",
    "down": "stop the local environments and the local registry (used by `make down`)",
    "repository": "print the image repository in use ($MLSHIP_REGISTRY, GitHub's, or the local registry)",
    "keys": "create the project's signing key once: private under deploy.signing.home, public committed",
    "digest": "print the digest of this commit's pushed image (--commit REV: of REV's build commit)",
    "verify": "exit 0 and the key's fingerprint when IMAGE carries the project's signature; 1 naming why not",
    "sign": "sign IMAGE (a digest already in the registry, after reviewing it) with the project's key",
    "sbom": "print IMAGE's CycloneDX SBOM, after checking its signature",
    "provenance": "print IMAGE's provenance statement (in-toto), after checking its signature and subject",
}
#: The actions that take an image reference.
IMAGE_ACTIONS = ("verify", "sign", "sbom", "provenance")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo", type=Path, default=Path(), help="git repository holding the state (default: .)"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    subs = {name: actions.add_parser(name, help=text, description=text) for name, text in ACTIONS.items()}
    subs["staging"].add_argument("image", nargs="?", help="sha256:..., a tag, or repository@digest")
    subs["release"].add_argument("version", help="vX.Y.Z (a git tag on the commit to release)")
    subs["rollback"].add_argument("environment", metavar="ENV")
    subs["rollback"].add_argument("--to", help="vX.Y.Z or sha256:... (default: before the latest change)")
    subs["status"].add_argument("--json", action="store_true")
    subs["history"].add_argument("environment", metavar="ENV")
    subs["history"].add_argument("--json", action="store_true")
    subs["image"].add_argument("--bento", required=True, help="NAME:VERSION in the BentoML store")
    subs["image"].add_argument("--backend", default="buildah", choices=["buildah", "podman", "docker"])
    subs["digest"].add_argument("--commit", default="HEAD", help="a commit, tag or branch (default: HEAD)")
    for action in IMAGE_ACTIONS:
        subs[action].add_argument(
            "image",
            metavar="IMAGE",
            help="sha256:..., a tag (sha-<sha12>, staging, v1.2.3) or repository@digest",
        )


def run(args: argparse.Namespace, params: Params) -> int:  # noqa: PLR0912 -- one branch per action
    from mlship.deploy import commands, runner, signing

    deployer = commands.Deployer(params, repo=args.repo)
    action = args.action
    if action == "registry-up":
        port = commands.registry_port(params)
        started = runner.registry_up(deployer.runtime_dir, port)
        what = "started" if started else "already running"
        print(f"registry: 127.0.0.1:{port} {what} (data: {deployer.runtime_dir}/registry)")
    elif action == "down":
        deployer.down()
        print("down: environments and registry stopped (data kept)")
    elif action == "image":
        print(deployer.image(args.bento, args.backend))
    elif action == "repository":
        print(deployer.repository)
    elif action == "push":
        deployer.push()
    elif action == "staging":
        deployer.staging(args.image)
    elif action == "release":
        deployer.release(args.version)
    elif action == "rollback":
        deployer.rollback(args.environment, args.to)
    elif action == "status":
        report = deployer.status()
        print(commands.dumps(report) if args.json else commands.render_status(report))
        return 0 if all(row["in_sync"] for row in report) else 3
    elif action == "history":
        rows = deployer.history(args.environment)
        print(commands.dumps(rows) if args.json else commands.render_history(rows))
    elif action == "digest":
        print(deployer.commit_digest(args.commit))
    elif action == "keys":
        fingerprint, created = signing.create(deployer.key)
        what = "created" if created else "already here"
        key = deployer.key
        print(f"keys: {fingerprint} {what}; public key {key.public} (commit it), private key in {key.home}")
    elif action == "verify":
        try:
            fingerprint = deployer.verify(args.image)
        except commands.DeployError as error:
            print(f"verify: NOT VERIFIED: {error}")
            return 1
        print(f"verify: {args.image} signed by {fingerprint}")
    elif action == "sign":
        deployer.sign(args.image)
    elif action == "sbom":
        sys.stdout.write(deployer.sbom(args.image).decode())
    elif action == "provenance":
        sys.stdout.write(deployer.provenance(args.image).decode())
    return 0
