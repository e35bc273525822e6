"""The shipping tests' real parts (base image, registry, the run's image, a clone), shared with the monitor's
end-to-end test."""

from tests.deploy.conftest import base_image, clone, registry_port, shipped

__all__ = ["base_image", "clone", "registry_port", "shipped"]
