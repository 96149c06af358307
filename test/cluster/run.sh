#!/usr/bin/env bash
# The real-cluster tier (`npm run test:cluster`): builds (or reuses) kube-apiserver,
# kube-controller-manager, etcd, kwok and kwokctl, starts a kwokctl cluster with the binary
# runtime on 127.0.0.1 (RBAC on, pods simulated by kwok, exec answered by test/cluster/bin),
# runs test/cluster/*.cluster.ts against it and always deletes the cluster.
# Env: MCW_CLUSTER_CACHE (default .cache/cluster), MCW_KEEP_CLUSTER=1 keeps the cluster for a look.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
# shellcheck source=versions.env
. "$HERE/versions.env"
tier_start=$SECONDS

CACHE=${MCW_CLUSTER_CACHE:-$ROOT/.cache/cluster}
export MCW_CLUSTER_CACHE=$CACHE
BIN=$CACHE/bin

echo "=== cluster tier: build (cache $CACHE)"
build_start=$SECONDS
if ! bash "$HERE/build.sh"; then
  echo "=== cluster tier: BUILD FAILED (see the output above)" >&2
  exit 1
fi
build_seconds=$((SECONDS - build_start))
for b in kube-apiserver kube-controller-manager etcd kwok kwokctl; do
  [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b missing after the build" >&2; exit 1; }
done

# Everything kwokctl writes (cluster config, pki, logs, etcd data) stays under the cache.
export KWOK_WORKDIR=$CACHE/kwok
NAME=mcw-$$
STATE=$CACHE/runs/$NAME
mkdir -p "$STATE" "$KWOK_WORKDIR"
KWOKCTL=("$BIN/kwokctl" --name "$NAME")

# kwokctl's own configuration: every listener on 127.0.0.1, the pinned versions (kwokctl picks
# component flags by version), and kwok's default "fast" stages except pod-complete, which
# would turn a Job's pods Succeeded at once: our Job pods must stay Running to be sampled, as a
# long-running Job's pods do. The stage files come from the pinned kwok module itself.
GO=$(command -v go || echo /usr/local/go/bin/go)
KWOK_SRC=$(GOTOOLCHAIN=local "$GO" mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$KWOK_SRC/kustomize/stage" ] || { echo "run.sh: kwok $KWOK_VERSION sources not found in the module cache" >&2; exit 1; }
{
  cat <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  kubeVersion: $KUBE_VERSION
  etcdVersion: ${ETCD_VERSION#v}
YAML
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready pod/fast/pod-delete; do
    echo '---'
    cat "$KWOK_SRC/kustomize/stage/$stage.yaml"
  done
} >"$STATE/kwokctl.yaml"

# A run killed before its trap could fire leaves its cluster behind: delete those of dead runs.
for stale in "$KWOK_WORKDIR"/clusters/mcw-*; do
  [ -d "$stale" ] || continue
  pid=${stale##*/mcw-}
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: deleting the cluster of an earlier run that did not finish (${stale##*/})"
    "$BIN/kwokctl" --name "${stale##*/}" delete cluster >/dev/null 2>&1 || true
    rm -rf "$CACHE/runs/${stale##*/}"
  fi
done

cluster_up=false
cleanup() {
  local code=$?
  if $cluster_up && [ "$code" -ne 0 ] && [ -d "$KWOK_WORKDIR/clusters/$NAME/logs" ]; then
    rm -rf "$CACHE/last-failure" && mkdir -p "$CACHE/last-failure"
    cp -r "$KWOK_WORKDIR/clusters/$NAME/logs" "$STATE/create.log" "$CACHE/last-failure/" 2>/dev/null || true
    echo "run.sh: component logs of the failed run kept in $CACHE/last-failure" >&2
  fi
  if $cluster_up && [ "${MCW_KEEP_CLUSTER:-}" != 1 ]; then
    "${KWOKCTL[@]}" delete cluster >/dev/null 2>&1 || echo "run.sh: could not delete cluster $NAME" >&2
    rm -rf "$STATE"
  elif $cluster_up; then
    echo "run.sh: kept cluster $NAME: KWOK_WORKDIR=$KWOK_WORKDIR $BIN/kwokctl --name $NAME delete cluster"
  fi
  [ -n "${test_start:-}" ] && test_seconds=$((SECONDS - test_start))
  echo "=== cluster tier: build ${build_seconds:-?}s, cluster ${cluster_seconds:-?}s, tests ${test_seconds:-?}s, total $((SECONDS - tier_start))s (exit $code)"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "=== cluster tier: create cluster $NAME (kube $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
cluster_start=$SECONDS
cluster_up=true
# kwok inherits this PATH: the exec of `pilot-agent` in a pod runs test/cluster/bin/pilot-agent.
# No scheduler: every test pod names its node (spec.nodeName), as kubelet-less clusters often do.
if ! PATH="$HERE/bin:$PATH" "${KWOKCTL[@]}" --config "$STATE/kwokctl.yaml" create cluster \
    --runtime binary \
    --kube-apiserver-binary "$BIN/kube-apiserver" \
    --kube-controller-manager-binary "$BIN/kube-controller-manager" \
    --etcd-binary "$BIN/etcd" \
    --kwok-controller-binary "$BIN/kwok" \
    --disable kube-scheduler \
    --kube-authorization \
    --enable-crds Exec \
    --wait 2m \
    >"$STATE/create.log" 2>&1; then
  cat "$STATE/create.log" >&2
  echo "=== cluster tier: cluster creation failed; component logs: $KWOK_WORKDIR/clusters/$NAME/logs" >&2
  exit 1
fi
cluster_seconds=$((SECONDS - cluster_start))

export MCW_CLUSTER_NAME=$NAME
export MCW_CLUSTER_DIR=$KWOK_WORKDIR/clusters/$NAME
export MCW_CLUSTER_STATE=$STATE

echo "=== cluster tier: tests"
test_start=$SECONDS
PATH="$ROOT/node_modules/.bin:$PATH" node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js \
  --testMatch '**/test/cluster/**/*.cluster.ts' --runInBand --testTimeout 300000 "$@"
