"""The benchmark reports' machine line: the CPU's generation from its family and model
numbers, since the SIMD flags alone do not tell how fast fp32 runs (bench/machine.py)."""

from __future__ import annotations

import pytest

from bench.machine import cpu_info, describe, generation


@pytest.mark.parametrize(("vendor", "family", "model", "expected"), [
    ("AuthenticAMD", 25, 1, "Zen 3"),        # EPYC Milan: AVX2 only
    ("AuthenticAMD", 25, 17, "Zen 4"),       # EPYC Genoa: AVX-512 on 256-bit units
    ("AuthenticAMD", 25, 160, "Zen 4"),      # EPYC Bergamo
    ("AuthenticAMD", 26, 2, "Zen 5"),        # EPYC Turin: 512-bit units
    ("GenuineIntel", 6, 143, "Sapphire Rapids"),
])
def test_known_generations_are_named(vendor: str, family: int, model: int,
                                     expected: str) -> None:
    found = generation(vendor, family, model)
    assert found is not None and found[0] == expected


def test_zen4_and_zen5_are_told_apart_by_their_vector_units() -> None:
    assert "256-bit" in generation("AuthenticAMD", 25, 17)[1]  # type: ignore[index]
    assert "512-bit" in generation("AuthenticAMD", 26, 2)[1]  # type: ignore[index]


def test_an_unknown_cpu_is_unknown_not_guessed() -> None:
    assert generation("AuthenticAMD", 99, 0) is None
    assert generation("SomeVendor", 25, 17) is None


def test_this_machines_line_names_family_model_and_flags() -> None:
    info = cpu_info()
    line = describe(info)
    assert line.startswith(f"CPU: {info['cpu']} (family ")
    assert "flags:" in line and "load average" in line
    assert len(info["family_model_stepping"]) == 3  # type: ignore[arg-type]
