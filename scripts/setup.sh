#!/usr/bin/env bash
# One-command set-up: create/reuse .venv, install the exact pins, the project
# itself (editable, for the npusim command and the entry points), Debian's dtc
# when missing (and chromium with NPUSIM_SETUP_BROWSER=1), and build the C++
# trace simulator. Fast when nothing changed:
# each step is skipped when its inputs' hash matches the stamp it left.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi

# The stamp lives inside the venv: a recreated venv must reinstall even when
# requirements.lock did not change. The hash covers the repo path too, because
# the editable install points at it.
DEPS_STAMP="$VENV/.npusim-deps"
deps_hash=$( (cat requirements.lock pyproject.toml; pwd) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$DEPS_STAMP" 2>/dev/null)" != "$deps_hash" ]; then
    say "installing pinned dependencies (requirements.lock)"
    start=$SECONDS
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$deps_hash" > "$DEPS_STAMP"
    say "dependencies installed in $((SECONDS - start)) s"
else
    say "dependencies up to date"
fi

# Debian packages: PACKAGE is installed when CHECK (a shell test) fails. With a third argument
# (what goes without it) a failed install is a warning, not the end of the set-up.
apt_install() {
    local package=$1 check=$2 without=${3:-}
    eval "$check" && return 0
    say "$package missing: installing the Debian package"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$package" >/dev/null; }; then
        if [ -n "$without" ]; then
            say "WARNING: could not install $package: $without"
            return 0
        fi
        say "ERROR: could not install $package; install it by hand: apt-get install $package"
        exit 1
    fi
}

# Spike runs dtc at start-up to build its device tree.
apt_install device-tree-compiler "command -v dtc >/dev/null 2>&1"
# The trace simulator parses its JSON inputs with Debian's nlohmann-json.
apt_install nlohmann-json3-dev "[ -f /usr/include/nlohmann/json.hpp ]"
# Only when asked (CI: .ci/run): the report tests check the HTML matrix in headless chromium and skip
# those checks without it; a ~300 MB browser is no dependency of the nightly.
if [ "${NPUSIM_SETUP_BROWSER:-0}" = 1 ]; then
    apt_install chromium "command -v chromium >/dev/null 2>&1" "the headless-browser report checks will be skipped"
fi

# The C++ trace simulator (simulator/trace) is built by its own build step.
if [ -f simulator/trace/build.py ]; then
    "$VENV/bin/python" -m simulator.trace.build
fi
say "ready"
