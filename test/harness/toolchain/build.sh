#!/usr/bin/env bash
# Builds the real test toolchain from Go modules into a cache outside the repository.
# Usage: build.sh [kubernetes|etcd|kwok|all]...   (default: all)
# A component whose binaries are already cached is skipped, so this is cheap to re-run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${PLINTH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plinth}
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0

log() { printf '[toolchain] %s\n' "$*" >&2; }

# cached <dir> <binaries...>: true when every binary is already built into <dir>/bin.
cached() {
  local dir=$1; shift
  local b
  for b in "$@"; do [[ -x "$dir/bin/$b" ]] || return 1; done
}

# build_into <name> <cache dir> <wrapper module dir> <go build args...>
# Builds in the wrapper module and moves the result into place atomically,
# so an interrupted build never leaves a half-populated cache directory.
build_into() {
  local name=$1 dir=$2 work=$3; shift 3
  local started=$SECONDS stage
  stage=$(mktemp -d "$cache/.stage-$name-XXXXXX")
  log "building $name into $dir (this takes minutes on 2 cores; output follows)"
  ( cd "$work" && go build -o "$stage/" "$@" ) &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && log "  still building $name: $((SECONDS - started))s elapsed"
  done
  if ! wait "$pid"; then rm -rf "$stage"; log "building $name failed"; return 1; fi
  mkdir -p "$dir"
  rm -rf "$dir/bin" && mv "$stage" "$dir/bin"
  log "built $name in $((SECONDS - started))s: $(ls "$dir/bin" | tr '\n' ' ')"
}

kubernetes() {
  local v=$KUBERNETES_VERSION dir="$cache/kubernetes-$KUBERNETES_VERSION"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if cached "$dir" "${bins[@]}"; then log "kubernetes $v cached in $dir"; return; fi
  local work; work=$(mktemp -d)
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  local minor=${v#v1.}; minor=${minor%%.*}
  {
    echo "module plinth.dev/toolchain/kubernetes"
    grep -E '^go ' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo "require k8s.io/kubernetes $v"
    echo "replace ("
    # k8s.io/kubernetes replaces each staging module with a local path; pin each to its published twin.
    sed -n '/^replace (/,/^)/p' "$gomod" | sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 v0.'"$minor.${v##*.}"'#p'
    echo ")"
  } > "$work/go.mod"
  cat > "$work/tools.go" <<GO
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving kubernetes $v modules"
  (cd "$work" && go mod tidy >/dev/null)
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  build_into kubernetes "$dir" "$work" -tags tools -pgo=off -trimpath -ldflags "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  rm -rf "$work"
}

etcd() {
  local v=$ETCD_VERSION dir="$cache/etcd-$ETCD_VERSION"
  if cached "$dir" etcd; then log "etcd $v cached in $dir"; return; fi
  local work; work=$(mktemp -d)
  printf 'module plinth.dev/toolchain/etcd\n\ngo 1.24\n' > "$work/go.mod"
  (cd "$work" && go get "go.etcd.io/etcd/server/v3@$v" >/dev/null 2>&1)
  # The server main is the module root; go would name its binary "server".
  build_into etcd "$dir" "$work" -trimpath -ldflags "-s -w" go.etcd.io/etcd/server/v3
  mv "$dir/bin/server" "$dir/bin/etcd"
  rm -rf "$work"
}

kwok() {
  local v=$KWOK_VERSION dir="$cache/kwok-$KWOK_VERSION"
  if cached "$dir" kwok; then log "kwok $v cached in $dir"; return; fi
  local work; work=$(mktemp -d)
  printf 'module plinth.dev/toolchain/kwok\n\ngo 1.24\n' > "$work/go.mod"
  (cd "$work" && go get "sigs.k8s.io/kwok/cmd/kwok@$v" >/dev/null 2>&1)
  build_into kwok "$dir" "$work" -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok
  rm -rf "$work"
}

mkdir -p "$cache"
targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(all)
for t in "${targets[@]}"; do
  case $t in
    all) etcd; kwok; kubernetes ;;
    kubernetes|etcd|kwok) "$t" ;;
    *) log "unknown component '$t' (allowed: kubernetes, etcd, kwok, all)"; exit 2 ;;
  esac
done
