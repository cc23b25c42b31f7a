#!/usr/bin/env bash
# Rebuilds archcost/report/vendor/plotly-archcost.min.js.gz, the partial plotly.js bundle
# the HTML reports inline (docs/reports.md, "Page weight"). Needs node and npm; only
# maintainers run it (when plotly.js or the trace types change), never the tests or users.
# Afterwards update VERSION and SHA256 in archcost/report/bundle.py (this prints both).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# A fixed build directory: esbuild's minified names depend on the paths it sees, so the
# same sources give the same bytes only when built in the same place.
work=/tmp/archcost-plotly-bundle
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/entry.js" "$here/build.js" "$work/"
# package-lock.json pins every package the build uses (plotly.js's own dependencies
# have version ranges); delete it to move to newer ones, and commit the new one.
if [ -f "$here/package-lock.json" ]; then
  cp "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
else
  (cd "$work" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  cp "$work/package-lock.json" "$here/"
fi
(cd "$work" && node build.js "$work/plotly-archcost.min.js")
# -n: no name or time stamp in the header, so the same JavaScript gives the same file.
gzip -9 -n -c "$work/plotly-archcost.min.js" > "$root/archcost/report/vendor/plotly-archcost.min.js.gz"
cp "$work/node_modules/plotly.js/LICENSE" "$root/archcost/report/vendor/LICENSE-plotly.js.txt"
echo "plotly.js $(cd "$work" && node -p "require('plotly.js/package.json').version")"
echo "sha256 of the JavaScript: $(sha256sum < "$work/plotly-archcost.min.js" | cut -d' ' -f1)"
ls -l "$work/plotly-archcost.min.js" "$root/archcost/report/vendor/plotly-archcost.min.js.gz"
