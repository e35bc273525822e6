"""The same floating-point results on every machine: one BLAS thread, one family of SIMD kernels.

OpenBLAS (inside the numpy and scipy wheels) picks its kernels by CPU model when it loads and splits work
over threads, and numpy picks AVX-512 or AVX2 loops for ``exp``, ``log`` and reductions by CPU; each changes
the last bits of a result. The logistic-regression model (and Deepchecks' figures) then differ between a
laptop and a CI runner, and ``dvc.lock`` with them. ``pin`` fixes all of it before numpy is loaded: the
AVX2 + FMA code paths (OpenBLAS' Haswell kernels, numpy without its AVX-512 loops; present on every x86-64
CI runner and laptop of the last decade) and one BLAS thread. Gradient boosting (OpenMP, scikit-learn's own
compiled code) is deterministic at any thread count and keeps both cores.

``mlship`` commands pin (``cli.main``; they run as fresh processes under ``dvc repro``), and so does the
service (``mlship.service``, before it imports numpy), so what it answers equals what ``evaluate`` and the
monitor's skew check compute, bit for bit. A process that has already loaded numpy (a test calling ``main``
in-process) keeps its settings; its subprocesses get them. The test suite pins itself first
(``tests/conftest.py``), so its in-process scores are the pipeline's too.
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping
from pathlib import Path

#: The kernel family pinned on x86-64: AVX2 + FMA.
CORETYPE = "Haswell"
REQUIRED_CPU_FLAGS = frozenset({"avx2", "fma"})
#: numpy 1.26's dispatch targets above AVX2 (numpy warns about names it does not know, so no more).
NUMPY_AVX512 = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` is not available)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def pinned_environment(machine: str, flags: frozenset[str]) -> dict[str, str]:
    """The variables that make BLAS results identical across machines of this architecture."""
    env = {"OPENBLAS_NUM_THREADS": "1"}
    if machine in {"x86_64", "AMD64"} and flags >= REQUIRED_CPU_FLAGS:
        env["OPENBLAS_CORETYPE"] = CORETYPE
        env["NPY_DISABLE_CPU_FEATURES"] = NUMPY_AVX512
    return env


def pin(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set the variables in ``environ`` (default ``os.environ``); call before numpy is imported."""
    target = os.environ if environ is None else environ
    env = pinned_environment(platform.machine(), cpu_flags())
    target.update(env)
    return env
