#!/usr/bin/env bash
# Builds the real-cluster tier's binaries from the Go module proxy into a git-ignored cache:
#   kube-apiserver, kube-controller-manager (k8s.io/kubernetes via components/go.mod), etcd
#   (go.etcd.io/etcd/server/v3 etcdmain), kwok and kwokctl (go install sigs.k8s.io/kwok@KWOK_VERSION).
# A warm run skips every binary whose module versions (read back with `go version -m`) match the
# pins and whose inputs (go.mod, go.sum, wrappers) are unchanged. Fails loudly on any build error.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

CACHE=${MCW_CLUSTER_CACHE:-$ROOT/.cache/cluster}
BIN=$CACHE/bin
mkdir -p "$BIN"

GO=$(command -v go || true)
[ -n "$GO" ] || GO=/usr/local/go/bin/go
[ -x "$GO" ] || { echo "build.sh: no Go toolchain (go not on PATH, no /usr/local/go/bin/go)" >&2; exit 1; }
export GOTOOLCHAIN=local           # never download a toolchain: the pins build with the local Go
export GOFLAGS="${GOFLAGS:--p=2} -buildvcs=false"
export GOCACHE=${MCW_GOCACHE:-$CACHE/go-build}   # keeps the (large) build cache beside the binaries
# Other engineers share these 2 cores: stay polite.
NICE="nice -n 10"

inputs_hash() {
  { "$GO" env GOVERSION; cat "$HERE/versions.env" "$HERE/components/go.mod" "$HERE/components/go.sum" "$HERE"/components/*/main.go; } \
    | sha256sum | cut -d' ' -f1
}

# has_module BINARY MODULE VERSION: the binary exists and was built with MODULE@VERSION.
has_module() {
  [ -x "$1" ] && "$GO" version -m "$1" 2>/dev/null | awk -v m="$2" -v v="$3" '($1=="dep"||$1=="mod") && $2==m && $3==v {ok=1} END {exit !ok}'
}

want=$(inputs_hash)
stamp=$BIN/.components-inputs
components_ok=true
has_module "$BIN/kube-apiserver" k8s.io/kubernetes "$KUBE_VERSION" || components_ok=false
has_module "$BIN/kube-controller-manager" k8s.io/kubernetes "$KUBE_VERSION" || components_ok=false
has_module "$BIN/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" || components_ok=false
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] || components_ok=false

start=$SECONDS
built=()
if ! $components_ok; then
  echo "build.sh: building kube-apiserver, kube-controller-manager ($KUBE_VERSION) and etcd ($ETCD_VERSION) into $BIN"
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  (cd "$HERE/components" && $NICE "$GO" mod download && \
    $NICE "$GO" build -mod=readonly -trimpath -ldflags "$ldflags" -o "$BIN/" ./kube-apiserver ./kube-controller-manager ./etcd)
  has_module "$BIN/kube-apiserver" k8s.io/kubernetes "$KUBE_VERSION"
  has_module "$BIN/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  echo "$want" > "$stamp"
  built+=(kube-apiserver kube-controller-manager etcd)
fi
if ! has_module "$BIN/kwok" sigs.k8s.io/kwok "$KWOK_VERSION" || ! has_module "$BIN/kwokctl" sigs.k8s.io/kwok "$KWOK_VERSION"; then
  echo "build.sh: installing kwok and kwokctl $KWOK_VERSION into $BIN"
  GOBIN=$BIN $NICE "$GO" install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  built+=(kwok kwokctl)
fi
if [ ${#built[@]} -eq 0 ]; then
  echo "build.sh: binaries up to date in $BIN (warm, $((SECONDS - start)) s)"
else
  echo "build.sh: built ${built[*]} in $((SECONDS - start)) s"
fi
