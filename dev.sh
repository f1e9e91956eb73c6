#!/usr/bin/env bash
# Set up a virtual environment in .venv and run something in it.
#   bash dev.sh test   install the package with its dev extras, then lint and run the tests
#   bash dev.sh main   install the package with its plot extra, then run the main job:
#                      the optimizer comparison on the moons data (tinygrad-edu compare)
#   bash dev.sh interop  install the dev extras and the interop packages: PyTorch's CPU wheel
#                      first and on its own (TORCH_SPEC, default torch==2.13.0), so that nothing
#                      pulls a CUDA build, then onnx, onnxruntime and safetensors
# Extra arguments after `test` go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".$1"
}

need_dot() {
    # graph pictures are rendered by Graphviz's `dot` binary (Debian package graphviz)
    if ! command -v dot >/dev/null 2>&1; then
        echo "dev.sh: installing Graphviz (dot) ..."
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq graphviz >/dev/null
    fi
}

need_browser() {
    # the player's test drives a real headless browser (Debian packages chromium, chromium-driver)
    if ! command -v chromedriver >/dev/null 2>&1 || ! { command -v chromium >/dev/null 2>&1 \
            || command -v chromium-browser >/dev/null 2>&1; }; then
        echo "dev.sh: installing Chromium and its driver ..."
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
}

install_interop() {
    "$VENV/bin/python" -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
    "$VENV/bin/python" -m pip install --quiet onnx onnxruntime safetensors
}

case "${1:-}" in
    interop)
        setup "[dev]"
        install_interop
        ;;
    test)
        shift
        setup "[dev]"
        need_dot
        need_browser
        "$VENV/bin/python" -c "import numpy; print('numpy', numpy.__version__)"
        "$VENV/bin/ruff" check .
        "$VENV/bin/python" -m pytest -q "$@"
        ;;
    main)
        shift
        setup "[plot,progress]"
        "$VENV/bin/tinygrad-edu" compare "$@"
        ;;
    *)
        echo "usage: bash dev.sh test [pytest args] | bash dev.sh main | bash dev.sh interop" >&2
        exit 2
        ;;
esac
