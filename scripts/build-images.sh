#!/usr/bin/env bash
# Builds the container images of Guardrails with podman, offline: nothing is pulled.
#
#   scripts/build-images.sh [--prefix PREFIX] [--binaries DIR]
#       Builds the release binaries (cargo build --release --locked) and one image per binary:
#       PREFIX/guardrails-operator, PREFIX/guardrails-agent and PREFIX/guardrails-api, tagged with
#       the workspace version (PREFIX defaults to ghcr.io/guardrails-io, the chart's default).
#       Prints one image reference per line on stdout; progress goes to stderr. Next to the
#       images, <target>/images/ holds for each one a docker-archive (<name>-<version>.tar, for
#       `kind load image-archive`, `k3d image import`, `docker load`) and a CycloneDX SBOM
#       (<name>-<version>.cdx.json). --binaries takes release binaries built elsewhere from this
#       same checkout instead of building them.
#   scripts/build-images.sh --run [PODMAN-RUN-OPTIONS...] REF [ARGS...]
#       `podman run --rm` of a built image, with the settings below.
#   scripts/build-images.sh --podman ARGS...
#       Any podman command on the images' store, e.g. `--podman push REF docker://registry/...`.
#
# Each image is `FROM scratch`: the binary (without its debug info) in /usr/local/bin, the
# shared libraries it links (found with ldd) in their usual paths, the Debian CA bundle, the
# copyright files of the Debian packages those files come from, user 65532:65532 without
# /etc/passwd, no shell.
#
# podman runs with its own containers.conf and storage.conf (CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF, set for this script only), so a user's own podman setup is neither
# read nor changed: the vfs storage driver in <target>/images/podman, cgroupfs, runc, and no
# default ulimits (crun cannot set rlimits on every machine). podman and runc are installed from
# Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly COMPONENTS=(operator agent api)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: $* (run: sudo apt-get install -y $*)"
  fi
  say "installing Debian packages: $*"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The workspace's target directory (honours CARGO_TARGET_DIR and .cargo/config).
TARGET=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
readonly TARGET

# The workspace version, the tag of every image.
workspace_version() {
  cargo pkgid -p guardrails-agent | sed 's/.*[#@]//'
}

# Points podman at this script's configuration and storage, creating them on first use.
use_own_podman() {
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then apt_install podman runc; fi
  local state run
  state="$TARGET/images/podman"
  if [ "$(id -u)" = 0 ]; then run=/run/guardrails-podman; else run="${XDG_RUNTIME_DIR:-/tmp}/guardrails-podman-$(id -u)"; fi
  mkdir -p "$state/storage" "$run"
  # NB: written to a temporary file and renamed, so a podman started meanwhile by a parallel
  # call never reads a half-written file.
  cat >"$state/containers.conf.$$" <<EOF
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
tmp_dir = "$run/libpod"
EOF
  cat >"$state/storage.conf.$$" <<EOF
[storage]
driver = "vfs"
graphroot = "$state/storage"
runroot = "$run/storage"
EOF
  mv -f "$state/containers.conf.$$" "$state/containers.conf"
  mv -f "$state/storage.conf.$$" "$state/storage.conf"
  export CONTAINERS_CONF="$state/containers.conf" CONTAINERS_STORAGE_CONF="$state/storage.conf"
}

# Every absolute path of a shared library `binary` loads, its ELF interpreter included.
shared_libraries() {
  local out
  out="$(ldd "$1")" || die "ldd cannot read $1"
  if grep -q 'not found' <<<"$out"; then die "$1 links libraries this machine lacks:"$'\n'"$out"; fi
  grep -o '/[^ ]*' <<<"$out"
}

# The Debian package that installed `path`.
debian_package() {
  local owner
  owner="$(dpkg -S "$1" 2>/dev/null || dpkg -S "$(realpath "$1")" 2>/dev/null)" ||
    die "no Debian package owns $1"
  cut -d: -f1 <<<"${owner%%:*}"
}

# Fills `root` with what every image shares: libraries, CA bundle, copyright files; prints the
# Debian packages they come from.
stage_base() {
  local root=$1 bins=$2 lib pkg
  local -A packages=([ca-certificates]=1)
  [ -f /etc/ssl/certs/ca-certificates.crt ] || apt_install ca-certificates
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  for lib in $(for c in "${COMPONENTS[@]}"; do shared_libraries "$bins/guardrails-$c"; done | sort -u); do
    install -D -m 0755 "$(realpath "$lib")" "$root$lib"
    packages[$(debian_package "$lib")]=1
  done
  for pkg in "${!packages[@]}"; do
    [ -f "/usr/share/doc/$pkg/copyright" ] || die "/usr/share/doc/$pkg/copyright is missing"
    install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
  done
  printf '%s\n' "${!packages[@]}" | sort
}

# The Containerfile of the image of `binary`: the shared base layer, then the binary.
containerfile() {
  cat <<EOF
FROM scratch
COPY base/ /
COPY $1 /usr/local/bin/$1
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/$1"]
EOF
}

# Crates compiled into each binary, as `root|name vX.Y.Z (source)|licence` lines; the features
# are resolved for the three packages together, as `cargo build` resolved them.
crate_lines() {
  local args=() c
  for c in "${COMPONENTS[@]}"; do args+=(-p "guardrails-$c"); done
  cargo tree --locked "${args[@]}" -e normal,no-proc-macro --no-dedupe \
    --prefix depth --format '|{p}|{l}' |
    awk -F'|' '$1 == "0" { root = $2 } NF == 3 { sub(/ \(\*\)$/, "", $3); print root "|" $2 "|" $3 }' |
    sort -u
}

# Percent-encodes the characters of a Debian version that a purl may not carry as they are.
purl_version() { sed 's/%/%25/g; s/+/%2B/g; s/:/%3A/g' <<<"$1"; }

# One CycloneDX component; refuses values that would need JSON escaping.
component() {
  local type=$1 name=$2 version=$3 purl=$4 licence=${5:-}
  [[ "$name$version$purl$licence" != *[\"\\]* ]] || die "cannot write $name $version into JSON"
  printf '    {"type": "%s", "name": "%s", "version": "%s", "purl": "%s"' "$type" "$name" "$version" "$purl"
  if [ -n "$licence" ]; then printf ', "licenses": [{"expression": "%s"}]' "$licence"; fi
  printf '}'
}

# The CycloneDX SBOM of the image `ref` of `binary`: its crates with their licences, and the
# Debian packages of the base layer (their licences are in /usr/share/doc/<package>/copyright).
write_sbom() {
  local ref=$1 binary=$2 version=$3 crates=$4 debs=$5 line name ver licence pkg type sep=''
  printf '{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.5",\n  "version": 1,\n'
  printf '  "metadata": {"component": {"type": "container", "name": "%s", "version": "%s"}},\n' "${ref%:*}" "$version"
  printf '  "components": [\n'
  while IFS='|' read -r _ line licence; do
    name=${line%% *}; ver=${line#* v}; ver=${ver%% *}
    licence=${licence// \/ //}; licence=${licence//\// OR }
    printf '%s' "$sep"; sep=$',\n'
    type=library; [ "$name" != "$binary" ] || type=application
    component "$type" "$name" "$ver" "pkg:cargo/$name@$ver" "$licence"
  done < <(grep "^$binary v" <<<"$crates")
  for pkg in $debs; do
    ver=$(dpkg-query -W -f '${Version}' "$pkg")
    printf '%s' "$sep"
    component library "$pkg" "$ver" "pkg:deb/debian/$pkg@$(purl_version "$ver")?arch=$(dpkg-query -W -f '${Architecture}' "$pkg")"
  done
  printf '\n  ]\n}\n'
}

build() {
  local prefix=ghcr.io/guardrails-io bins=''
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
      --binaries) bins=${2:?--binaries needs a directory}; shift 2 ;;
      *) die "unknown argument: $1 (see the top of $0)" ;;
    esac
  done
  use_own_podman
  command -v strip >/dev/null || apt_install binutils
  local version out context packages crates epoch c name ref
  version=$(workspace_version)
  out="$TARGET/images"
  if [ -z "$bins" ]; then
    say "building the release binaries"
    local args=() ; for c in "${COMPONENTS[@]}"; do args+=(-p "guardrails-$c"); done
    cargo build --release --locked "${args[@]}" >&2
    bins="$TARGET/release"
  fi
  context="$out/context"
  rm -rf "$context"
  mkdir -p "$context/base"
  packages=$(stage_base "$context/base" "$bins")
  crates=$(crate_lines)
  # NB: one timestamp for every file and image, so the shared base layer is byte-identical in
  # the three images and stored once by a registry or node.
  epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
  for c in "${COMPONENTS[@]}"; do
    name=guardrails-$c
    ref="$prefix/$name:$version"
    # NB: the release profile keeps line tables (~80 MB a binary); symbols stay for backtraces.
    strip --strip-debug -o "$context/$name" "$bins/$name"
    say "building $ref"
    containerfile "$name" | podman build --quiet --timestamp "$epoch" --identity-label=false \
      --label "org.opencontainers.image.title=$name" \
      --label "org.opencontainers.image.version=$version" \
      --label "org.opencontainers.image.licenses=Apache-2.0" \
      --label "org.opencontainers.image.source=https://github.com/guardrails-io/guardrails" \
      --tag "$ref" --file - "$context" >/dev/null
    podman save --quiet --format docker-archive --output "$out/$name-$version.tar.tmp" "$ref"
    mv "$out/$name-$version.tar.tmp" "$out/$name-$version.tar"
    write_sbom "$ref" "$name" "$version" "$crates" "$packages" >"$out/$name-$version.cdx.json"
    say "$ref: $(podman image inspect --format '{{.Size}}' "$ref") bytes; $out/$name-$version.{tar,cdx.json}"
    printf '%s\n' "$ref"
  done
  podman image prune --force >/dev/null
}

case ${1:-} in
  --run) shift; use_own_podman; exec podman run --rm "$@" ;;
  --podman) shift; use_own_podman; exec podman "$@" ;;
  *) build "$@" ;;
esac
