"""Pinned numerics: which variables are set on which machine."""

from __future__ import annotations

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
