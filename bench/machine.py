"""The machine a benchmark ran on: CPU model and core generation, the SIMD flags that decide
how fast the model and the index run, CPUs, memory and the load average. Every benchmark
report prints this, so a number is never read without the CPU it was measured on.

The flags alone do not tell how fast fp32 is: "AMD EPYC" with AVX-512 may be a Zen 4, whose
AVX-512 runs on 256-bit units (the same fp32 multiply-adds per cycle as AVX2), or a Zen 5,
whose units are 512 bits wide (twice as many). So the report also names the generation,
read from the CPU family and model numbers."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The flags that change which code paths run: AVX2/FMA (every x86 fp32 kernel),
# AVX-512 and its VNNI (int8) and BF16 extensions, AMX.
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
              "amx_tile", "amx_bf16", "amx_int8")


# (vendor, family, first model, last model) → the core generation and the width of the
# units that run its widest fp32 vectors. Only generations these machines are known to be.
_GENERATIONS = (
    ("AuthenticAMD", 0x17, 0x00, 0xFF, "Zen / Zen 2", "AVX2 on 128-bit units"),
    ("AuthenticAMD", 0x19, 0x00, 0x0F, "Zen 3", "AVX2 on 256-bit units"),
    ("AuthenticAMD", 0x19, 0x10, 0x1F, "Zen 4", "AVX-512 on 256-bit units"),
    ("AuthenticAMD", 0x19, 0x20, 0x5F, "Zen 3", "AVX2 on 256-bit units"),
    ("AuthenticAMD", 0x19, 0x60, 0xAF, "Zen 4", "AVX-512 on 256-bit units"),
    ("AuthenticAMD", 0x1A, 0x00, 0xFF, "Zen 5", "AVX-512 on 512-bit units (server parts)"),
    ("GenuineIntel", 0x06, 0x55, 0x55, "Skylake-SP / Cascade Lake", "AVX-512"),
    ("GenuineIntel", 0x06, 0x6A, 0x6C, "Ice Lake-SP", "AVX-512"),
    ("GenuineIntel", 0x06, 0x8F, 0x8F, "Sapphire Rapids", "AVX-512, AMX"),
    ("GenuineIntel", 0x06, 0xCF, 0xCF, "Emerald Rapids", "AVX-512, AMX"),
    ("GenuineIntel", 0x06, 0xAD, 0xAE, "Granite Rapids", "AVX-512, AMX"),
)


def generation(vendor: str, family: int, model: int) -> tuple[str, str] | None:
    """The core generation and its vector units for a CPU's vendor, family and model
    numbers (as /proc/cpuinfo gives them), or None when it is not one we know."""
    for known, fam, first, last, name, units in _GENERATIONS:
        if vendor == known and family == fam and first <= model <= last:
            return name, units
    return None


def _cpuinfo_fields() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_info() -> dict[str, object]:
    """CPU model, family/model/stepping and generation, SIMD flags present, CPUs usable,
    memory (GiB), Python and load average."""
    fields = _cpuinfo_fields()
    model = fields.get("model name") or platform.processor() or "?"
    flags = set(fields.get("flags", "").split())
    numbers = {key: int(fields[key]) for key in ("cpu family", "model", "stepping")
               if fields.get(key, "").isdigit()}
    known = (generation(fields.get("vendor_id", ""), numbers["cpu family"], numbers["model"])
             if {"cpu family", "model"} <= numbers.keys() else None)
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 2**20
    except OSError:
        pass
    return {"cpu": model, "family_model_stepping": [numbers.get(key) for key in
                                                    ("cpu family", "model", "stepping")],
            "generation": f"{known[0]} ({known[1]})" if known else "unknown",
            "cpus": len(os.sched_getaffinity(0)),
            "simd": [flag for flag in SIMD_FLAGS if flag in flags],
            "memory_gib": memory, "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "blas_env": {k: os.environ[k] for k in os.environ if k.startswith("OPENBLAS")}}


def describe(info: dict[str, object] | None = None) -> str:
    """One line: CPU model, family/model/stepping and generation, CPUs, SIMD flags, load
    average."""
    info = info or cpu_info()
    simd = ", ".join(info["simd"]) or "no AVX2"  # type: ignore[arg-type]
    family, model, stepping = info.get("family_model_stepping") or (None, None, None)  # type: ignore[misc]
    return (f"CPU: {info['cpu']} (family {family}, model {model}, stepping {stepping}: "
            f"{info.get('generation', 'unknown')}), {info['cpus']} CPUs, flags: {simd}; "
            f"load average {info['load_average']}")


if __name__ == "__main__":
    print(describe())
