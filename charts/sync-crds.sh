#!/usr/bin/env bash
# Copies the generated CRDs (crds/, the profile model's output; `npm run gen:crd`) into the chart's crds/
# directory. Helm can only read files inside the chart, so the chart carries a copy; test/chart/render.test.ts
# fails when the copy and crds/ differ. Run after every CRD change.
# Each copy starts with a `---` line (added when the source lacks it): `helm show crds` concatenates the files
# as they are, and the documented upgrade step pipes that into `kubectl apply`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/crds dst=$root/charts/podfence/crds
shopt -s nullglob
files=("$src"/*.yaml)
[[ ${#files[@]} -gt 0 ]] || { echo "sync-crds: no CRDs in $src (run npm run gen:crd)" >&2; exit 1; }
mkdir -p "$dst"
rm -f "$dst"/*.yaml
for f in "${files[@]}"; do
  out=$dst/$(basename "$f")
  if [[ $(head -n1 "$f") == "---" ]]; then cp "$f" "$out"; else { echo "---"; cat "$f"; } >"$out"; fi
done
echo "sync-crds: ${#files[@]} CRD(s) copied to $dst" >&2
