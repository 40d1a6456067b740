#!/usr/bin/env bash
# Copies the generated CRDs (crds/, the profile model's output; `npm run gen:crd`) into the chart's crds/
# directory, byte for byte. Helm can only read files inside the chart, so the chart carries a copy;
# test/chart/render.test.ts fails when the copy and crds/ differ. Run after every CRD change.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/crds dst=$root/charts/podfence/crds
shopt -s nullglob
files=("$src"/*.yaml)
[[ ${#files[@]} -gt 0 ]] || { echo "sync-crds: no CRDs in $src (run npm run gen:crd)" >&2; exit 1; }
mkdir -p "$dst"
rm -f "$dst"/*.yaml
cp "${files[@]}" "$dst"/
echo "sync-crds: ${#files[@]} CRD(s) copied to $dst" >&2
