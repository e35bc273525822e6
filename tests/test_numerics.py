"""Pinned numerics: which variables are set on which machine, and that the service computes on them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlship import numerics

AVX2_FMA = frozenset({"sse2", "avx", "avx2", "fma"})


def test_an_x86_machine_with_avx2_gets_the_haswell_kernels_one_thread_and_no_avx512_loops() -> None:
    env = numerics.pinned_environment("x86_64", AVX2_FMA | {"avx512f"})
    assert env == {
        "OPENBLAS_NUM_THREADS": "1",
        "OPENBLAS_CORETYPE": "Haswell",
        "NPY_DISABLE_CPU_FEATURES": numerics.NUMPY_AVX512,
    }


@pytest.mark.parametrize(
    ("machine", "flags"),
    [
        pytest.param("x86_64", frozenset({"sse2", "avx"}), id="x86 without AVX2"),
        pytest.param("aarch64", frozenset({"asimd"}), id="ARM"),
    ],
)
def test_other_machines_get_one_blas_thread_and_keep_their_kernels(
    machine: str, flags: frozenset[str]
) -> None:
    # the Haswell kernels would be an illegal instruction there
    assert numerics.pinned_environment(machine, flags) == {"OPENBLAS_NUM_THREADS": "1"}


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma\n")
    assert numerics.cpu_flags(cpuinfo) == {"fpu", "sse2", "avx2", "fma"}


def test_no_cpuinfo_means_no_flags(tmp_path: Path) -> None:
    assert numerics.cpu_flags(tmp_path / "absent") == frozenset()


def test_pin_overrides_what_the_caller_set() -> None:
    environ = {"OPENBLAS_NUM_THREADS": "8", "HOME": "/root"}
    applied = numerics.pin(environ)
    assert environ["OPENBLAS_NUM_THREADS"] == "1"
    assert environ["HOME"] == "/root"
    assert applied.items() <= environ.items()


#: A softmax whose last bits depend on numpy's ``exp`` kernels (AVX-512 and AVX2 differ on such inputs):
#: scikit-learn's multiclass ``predict_proba``. Prints a digest of the result's bytes.
SOFTMAX = """
import hashlib
import numpy as np
from sklearn.utils.extmath import softmax
scores = np.random.default_rng(0).normal(size=(4096, 3)) * 5
print(hashlib.sha256(softmax(scores).tobytes()).hexdigest())
"""


def test_the_service_process_scores_on_the_kernels_the_pipeline_uses() -> None:
    # given a shell without the pinned variables (a container's, or a fresh terminal's)
    env = {k: v for k, v in os.environ.items() if k not in numerics.pinned_environment("x86_64", AVX2_FMA)}
    # when a process imports the service module first (as each BentoML worker does), and another pins as every
    # `mlship` command does (cli.main), then each computes the same softmax
    served = f"import mlship.service\n{SOFTMAX}"
    pipeline = f"from mlship import numerics\nnumerics.pin()\n{SOFTMAX}"
    digests = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for code in (served, pipeline)
    ]
    # then the bits are the same: what the service answers is what `evaluate` and the monitor compute
    assert digests[0] == digests[1]
