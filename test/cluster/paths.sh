# Source this file to find the pinned upstream binaries the tests run:
#   . test/cluster/paths.sh && "$PODFENCE_K8S_BIN/kubectl" version --client
# PODFENCE_CACHE (default ~/.cache/podfence) moves the whole cache; build-binaries.sh fills it.
PODFENCE_K8S_VERSION=v1.34.12
PODFENCE_ETCD_VERSION=v3.6.16
PODFENCE_CACHE=${PODFENCE_CACHE:-$HOME/.cache/podfence}
PODFENCE_K8S_BIN=$PODFENCE_CACHE/k8s-$PODFENCE_K8S_VERSION/bin
export PODFENCE_K8S_VERSION PODFENCE_ETCD_VERSION PODFENCE_CACHE PODFENCE_K8S_BIN
