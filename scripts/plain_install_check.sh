#!/usr/bin/env bash
# `pip install .` (no extras) into a fresh venv, then, from outside the checkout: import every
# module of the installed packages and run `newsmon demo`. Run by .ci/run; a minute or two.
set -euo pipefail
checkout="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$checkout"
cd "$work"
export PREFECT_HOME="$work/prefect-home" NEWSMON_DATA_DIR="$work/data"
"$work/venv/bin/python" "$checkout/scripts/import_all.py"
"$work/venv/bin/newsmon" demo | tee "$work/demo.out"
grep -Eq "articles: [1-9][0-9]* new" "$work/demo.out"
echo "plain install: every module imports and newsmon demo stored articles"
