#!/usr/bin/env bash
# Builds the real test toolchain from Go modules into a cache outside the repository.
# Usage: build.sh [COMPONENT|all]... (default: all); build.sh --list prints the components.
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

# k8s_wrapper <name> <imports...>: a throwaway module that requires k8s.io/kubernetes and pins each
# staging module it replaces with a local path to its published twin. Prints the module's folder.
k8s_wrapper() {
  local name=$1; shift
  local v=$KUBERNETES_VERSION work; work=$(mktemp -d)
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  local minor=${v#v1.}; minor=${minor%%.*}
  {
    echo "module plinth.dev/toolchain/$name"
    grep -E '^go ' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo "require k8s.io/kubernetes $v"
    echo "replace ("
    sed -n '/^replace (/,/^)/p' "$gomod" | sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 v0.'"$minor.${v##*.}"'#p'
    echo ")"
  } > "$work/go.mod"
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'; printf '\t_ "%s"\n' "$@"; printf ')\n'; } > "$work/tools.go"
  log "resolving kubernetes $v modules for $name"
  (cd "$work" && go mod tidy >/dev/null)
  echo "$work"
}

k8s_ldflags() {
  local v=$KUBERNETES_VERSION; local minor=${v#v1.}; minor=${minor%%.*}
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  echo "$ld -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

kubernetes() {
  local v=$KUBERNETES_VERSION dir="$cache/kubernetes-$KUBERNETES_VERSION"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if cached "$dir" "${cmds[@]}"; then log "kubernetes $v cached in $dir"; return; fi
  local pkgs=("${cmds[@]/#/k8s.io/kubernetes/cmd/}") work
  work=$(k8s_wrapper kubernetes "${pkgs[@]}")
  build_into kubernetes "$dir" "$work" -tags tools -pgo=off -trimpath -ldflags "$(k8s_ldflags)" "${pkgs[@]}"
  rm -rf "$work"
}

# The real nodes' agents: a separate cache folder, so adding them never rebuilds the control plane.
kubernetes_node() {
  local v=$KUBERNETES_VERSION dir="$cache/kubernetes-node-$KUBERNETES_VERSION"
  local cmds=(kubelet kube-proxy)
  if cached "$dir" "${cmds[@]}"; then log "kubernetes-node $v cached in $dir"; return; fi
  local pkgs=("${cmds[@]/#/k8s.io/kubernetes/cmd/}") work
  work=$(k8s_wrapper kubernetes-node "${pkgs[@]}")
  build_into kubernetes-node "$dir" "$work" -tags tools -pgo=off -trimpath -ldflags "$(k8s_ldflags)" "${pkgs[@]}"
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

# wrapper <name> <go line> <module lines...>: a throwaway module that pins what the build needs.
wrapper() {
  local name=$1 goline=$2; shift 2
  local work; work=$(mktemp -d)
  { echo "module plinth.dev/toolchain/$name"; echo; echo "go $goline"; printf '%s\n' "$@"; } > "$work/go.mod"
  echo "$work"
}

pulumi() {
  local v=$PULUMI_VERSION dir="$cache/pulumi-$PULUMI_VERSION"
  if cached "$dir" pulumi pulumi-analyzer-policy; then log "pulumi $v cached in $dir"; return; fi
  # pkg/go.mod points the sdk at a local path; the wrapper requires both at one release and keeps
  # pkg's other replacements.
  local work; work=$(wrapper pulumi 1.23.11 \
    'replace github.com/sergi/go-diff => github.com/sergi/go-diff v1.1.0' \
    'replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e' \
    "require github.com/pulumi/pulumi/pkg/v3 $v" "require github.com/pulumi/pulumi/sdk/v3 $v")
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > "$work/tools.go"
  log "resolving pulumi $v modules"
  (cd "$work" && go mod tidy >/dev/null 2>&1)
  build_into pulumi "$dir" "$work" -pgo=off -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  # The release ships this launcher beside the CLI: it runs policy packs with @pulumi/pulumi's runner.
  local sdk; sdk=$(cd "$work" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  install -m 0755 "$sdk/nodejs/dist/pulumi-analyzer-policy" "$dir/bin/"
  rm -rf "$work"
}

pulumi_language_nodejs() {
  local v=$PULUMI_NODEJS_HOST_VERSION dir="$cache/pulumi-language-nodejs-$PULUMI_NODEJS_HOST_VERSION"
  if cached "$dir" pulumi-language-nodejs; then log "pulumi-language-nodejs $v cached in $dir"; return; fi
  local work; work=$(wrapper pulumi-language-nodejs 1.18 \
    'replace golang.org/x/text => golang.org/x/text v0.3.6' "require github.com/pulumi/pulumi/sdk/v3 $v")
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"\n' \
    > "$work/tools.go"
  (cd "$work" && go mod tidy >/dev/null 2>&1)
  build_into pulumi-language-nodejs "$dir" "$work" -pgo=off -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  rm -rf "$work"
}

pulumi_kubernetes() {
  local v=$PULUMI_KUBERNETES_VERSION dir="$cache/pulumi-kubernetes-$PULUMI_KUBERNETES_VERSION"
  if cached "$dir" pulumi-resource-kubernetes; then log "pulumi-resource-kubernetes $v cached in $dir"; return; fi
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4
  local work; work=$(wrapper pulumi-resource-kubernetes 1.24.7 "require $mod $PULUMI_KUBERNETES_MODULE")
  # The checksum database does not list this pseudo-version nor some of its pulumi dependencies,
  # so their sums come from the module proxy alone.
  export GONOSUMDB=github.com/pulumi
  # The upstream main embeds a generated copy of the schema that the module does not carry; this
  # one embeds the schema.json the module does carry and calls the same serve function.
  cat > "$work/main.go" <<'GO'
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
GO
  log "resolving pulumi-kubernetes $PULUMI_KUBERNETES_MODULE modules"
  (cd "$work" && go mod tidy >/dev/null 2>&1)
  local src; src=$(cd "$work" && go list -m -f '{{.Dir}}' "$mod")
  install -m 0644 "$src/cmd/pulumi-resource-kubernetes/schema.json" \
    "$src/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$work/"
  build_into pulumi-kubernetes "$dir" "$work" -pgo=off -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$v" .
  rm -rf "$work"
}

# The cluster DNS. The upstream main links every plugin, cloud DNS providers' SDKs included; this
# main links only what a cluster DNS without outside network needs (no forward): on 2 cores it
# builds in 3 minutes instead of 5, from a fifth of the module downloads (0.4 GB, not 1.7 GB).
# A Corefile naming a plugin left out is refused at start ("no action found for directive").
coredns() {
  local v=$COREDNS_VERSION dir="$cache/coredns-$COREDNS_VERSION"
  if cached "$dir" coredns; then log "coredns $v cached in $dir"; return; fi
  local work; work=$(wrapper coredns 1.26.0 "require github.com/coredns/coredns $v")
  mkdir "$work/coredns"
  cat > "$work/coredns/main.go" <<'GO'
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
GO
  log "resolving coredns $v modules"
  (cd "$work" && go mod tidy >/dev/null 2>&1)
  # No version ldflag: `coredns -version` prints coremain's CoreVersion constant.
  build_into coredns "$dir" "$work" -pgo=off -trimpath -ldflags "-s -w" ./coredns
  rm -rf "$work"
}

# Each real node's NetworkPolicy agent (run with only its firewall on). Its go.mod replaces nothing,
# so `go get` resolves it as it is.
kube_router() {
  local v=$KUBE_ROUTER_VERSION dir="$cache/kube-router-$KUBE_ROUTER_VERSION"
  local mod=github.com/cloudnativelabs/kube-router/v2
  if cached "$dir" kube-router; then log "kube-router $v cached in $dir"; return; fi
  local work; work=$(wrapper kube-router 1.21)
  log "resolving kube-router $v modules"
  (cd "$work" && go get "$mod/cmd/kube-router@$v" >/dev/null 2>&1)
  # The release's commit time as the build date, so the same version always builds the same binary.
  local released; released=$(cd "$work" && go list -m -f '{{.Time}}' "$mod")
  build_into kube-router "$dir" "$work" -pgo=off -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$v -X $mod/pkg/version.BuildDate=${released%% *}" \
    "$mod/cmd/kube-router"
  rm -rf "$work"
}

# The local platform's S3-compatible store (Apache-2.0): one binary that serves S3 from a folder
# (its posix backend), keeps its users in another (its internal IAM) and is its own admin client
# (`versitygw admin`). The module carries no commit, so Build names the release, and the release's
# commit date is its BuildTime.
versitygw() {
  local v=$VERSITYGW_VERSION dir="$cache/versitygw-$VERSITYGW_VERSION" mod=github.com/versity/versitygw
  if cached "$dir" versitygw; then log "versitygw $v cached in $dir"; return; fi
  local work; work=$(wrapper versitygw 1.25.0)
  log "resolving versitygw $v modules"
  (cd "$work" && go get "$mod/cmd/versitygw@$v" >/dev/null 2>&1)
  local released; released=$(cd "$work" && go list -m -f '{{.Time}}' "$mod")
  build_into versitygw "$dir" "$work" -pgo=off -trimpath \
    -ldflags "-s -w -X main.Version=$v -X main.Build=$v -X main.BuildTime=${released%% *}" \
    "$mod/cmd/versitygw"
  rm -rf "$work"
}

# The CloudNativePG operator's manager: one binary that is both the operator and, copied into each
# Postgres pod, the instance manager. Upstream images keep it at /manager. The release's config/
# (every CRD, RBAC, webhooks, the Deployment) is kept beside it: `kubectl kustomize
# <dir>/config/default` renders the whole install. It is copied before the build, so a cached
# binary always has it.
cloudnative_pg() {
  local v=$CLOUDNATIVE_PG_VERSION dir="$cache/cloudnative-pg-$CLOUDNATIVE_PG_VERSION"
  local mod=github.com/cloudnative-pg/cloudnative-pg
  if cached "$dir" cnpg-manager; then log "cloudnative-pg $v cached in $dir"; return; fi
  local work; work=$(wrapper cloudnative-pg 1.26.4)
  log "resolving cloudnative-pg $v modules"
  (cd "$work" && go get "$mod/cmd/manager@$v" >/dev/null 2>&1)
  local released src; released=$(cd "$work" && go list -m -f '{{.Time}}' "$mod")
  src=$(cd "$work" && go list -m -f '{{.Dir}}' "$mod")
  mkdir -p "$dir" && rm -rf "$dir/config" && cp -r "$src/config" "$dir/config" && chmod -R u+w "$dir/config"
  build_into cloudnative-pg "$dir" "$work" -pgo=off -trimpath \
    -ldflags "-s -w -X $mod/pkg/versions.buildVersion=${v#v} -X $mod/pkg/versions.buildDate=${released%% *}" \
    "$mod/cmd/manager"
  mv "$dir/bin/manager" "$dir/bin/cnpg-manager"
  rm -rf "$work"
}

# Every component, in the order `all` builds them; each is the function of that name (- as _).
components=(etcd kwok kubernetes kubernetes-node kube-router coredns versitygw cloudnative-pg pulumi-language-nodejs pulumi-kubernetes pulumi)

targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(all)
if [[ ${targets[0]} == --list ]]; then printf '%s\n' "${components[@]}"; exit 0; fi
for t in "${targets[@]}"; do
  if [[ $t != all && " ${components[*]} " != *" $t "* ]]; then
    log "unknown component '$t' (allowed: ${components[*]/%/,} all)"; exit 2
  fi
done
mkdir -p "$cache"
for t in "${targets[@]}"; do
  if [[ $t == all ]]; then
    for c in "${components[@]}"; do "${c//-/_}"; done
  else
    "${t//-/_}"
  fi
done
