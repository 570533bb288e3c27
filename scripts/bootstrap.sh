#!/usr/bin/env bash
# Sets up everything boardcc needs on a fresh Debian/Ubuntu machine, once: the system
# packages (libsndfile for audio files, espeak-ng for the talk-off corpus the tests build,
# libspandsp and libspeexdsp for the side-by-side benchmarks, dahdi-source for the DAHDI header
# the binding is checked against, gcc for the simulated Donjin SDK the tests build; for the
# PyQt6 monitor offscreen: the EGL/GL, xkbcommon, fontconfig and D-Bus libraries Qt loads,
# Noto CJK fonts for Chinese labels and Qt's lrelease for the translations), a virtual
# environment in .venv, and boardcc installed into it in editable mode with its development
# tools. Later runs only check, and install boardcc
# again when its build inputs changed (pyproject.toml, setup.py, the cffi build scripts) or the
# cffi modules that the editable install generates in drivers/dahdi/ and drivers/donjin/ are
# missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

apt_packages=(libsndfile1 espeak-ng libspandsp2 libspeexdsp1 sox dahdi-source gcc libc6-dev
    libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-noto-cjk
    qt6-l10n-tools)
# Debian splits venv out of the interpreter; only ask for it when it is missing.
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${apt_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "boardcc: installing system packages: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

stamp=.venv/.boardcc-installed
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stale() {
    [ ! -f "$stamp" ] || [ ! -f drivers/dahdi/_dahdi_cffi.py ] ||
        [ ! -f drivers/donjin/_donjin_cffi.py ] ||
        [ -n "$(find pyproject.toml setup.py build_cffi -newer "$stamp" 2>/dev/null)" ]
}
if stale; then
    echo "boardcc: installing Python packages into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch "$stamp"
fi
