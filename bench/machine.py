"""The machine a benchmark ran on: CPU model, the SIMD flags that decide how fast the
model and the index run, CPUs, memory and the load average. Every benchmark report prints
this, so a number is never read without the CPU it was measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The flags that change which code paths run: AVX2/FMA (every x86 fp32 kernel),
# AVX-512 and its VNNI (int8) and BF16 extensions, AMX.
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
              "amx_tile", "amx_bf16", "amx_int8")


def cpu_info() -> dict[str, object]:
    """CPU model, SIMD flags present, CPUs usable, memory (GiB), Python and load average."""
    model, flags = platform.processor() or "?", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 2**20
    except OSError:
        pass
    return {"cpu": model, "cpus": len(os.sched_getaffinity(0)),
            "simd": [flag for flag in SIMD_FLAGS if flag in flags],
            "memory_gib": memory, "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "blas_env": {k: os.environ[k] for k in os.environ if k.startswith("OPENBLAS")}}


def describe(info: dict[str, object] | None = None) -> str:
    """One line: CPU model, CPUs, SIMD flags, load average."""
    info = info or cpu_info()
    simd = ", ".join(info["simd"]) or "no AVX2"  # type: ignore[arg-type]
    return (f"CPU: {info['cpu']}, {info['cpus']} CPUs, flags: {simd}; "
            f"load average {info['load_average']}")


if __name__ == "__main__":
    print(describe())
