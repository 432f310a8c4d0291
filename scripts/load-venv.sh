#!/usr/bin/env bash
# Build (or reuse) .venv-load: the load generator of `make bench`'s Throughput section (Locust),
# apart from the project's environment (Locust brings gevent, Flask and pinned greenlet/msgpack
# versions that Rasa's own dependencies must not see). Same Python as .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"
# uv as scripts/bootstrap.sh installed it: on PATH, in ~/.local/bin, or as a module of the base
# Python of .venv (bootstrap's fallback when a --user install is not possible).
UV="$(command -v uv || echo "$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')/bin/python3 -m uv")"
if [ ! -x .venv-load/bin/python ]; then
  $UV venv --quiet --python .venv/bin/python .venv-load
fi
$UV pip install --quiet --python .venv-load/bin/python -r training/bench/load-requirements.txt
touch .venv-load/.installed
echo "Load generator ready: $(.venv-load/bin/locust --version)"
