#!/usr/bin/env bash
# Build (or reuse) the project's Python 3.10 virtual environment in .venv with uv.
# Rasa 3.6 needs Python >=3.8,<3.11: look on PATH first, then under pyenv.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in python3.10 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.10*/bin/python3.10; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  for candidate in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

PY310="$(find_python310)" || {
  echo "error: no Python 3.10 interpreter found (Rasa 3.6 needs >=3.8,<3.11)." >&2
  echo "Install one (e.g. 'pyenv install 3.10') and run this again." >&2
  exit 1
}
echo "Using Python 3.10 at $PY310"

if ! command -v uv >/dev/null 2>&1; then
  echo "Installing uv (the fast Python package installer) from PyPI"
  "$PY310" -m pip install --quiet --user uv 2>/dev/null || "$PY310" -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
UV="$(command -v uv || echo "$PY310 -m uv")"

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  rm -rf .venv
  $UV venv --quiet --python "$PY310" .venv
fi
# Compiled bytecode: Python otherwise compiles every module it imports from source in each new
# process wherever PYTHONDONTWRITEBYTECODE is set (this sandbox sets it): importing Rasa took
# 16 s instead of 7 s, in every server, worker and CLI process.
$UV pip install --compile-bytecode --python .venv/bin/python -e '.[dev]'
touch .venv/.installed
echo "Virtual environment ready: .venv ($(.venv/bin/python --version))"
