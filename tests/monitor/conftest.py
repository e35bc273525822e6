"""The shipping tests' real parts (registry, clone, base image), shared with the monitor's end-to-end test."""

from tests.deploy.conftest import base_image, clone, registry_port

__all__ = ["base_image", "clone", "registry_port"]
