#!/usr/bin/env bash
# The main job: set up, compare every bundled spec in the terminal, and write the
# MobileNet vs ShuffleNet report to reports/mobilenet_vs_shufflenet.html.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/archcost compare specs/*.yaml
.venv/bin/archcost compare specs/mobilenet_v1.yaml specs/mobilenet_v2.yaml \
  specs/shufflenet_v1.yaml specs/shufflenet_v2.yaml --html reports/mobilenet_vs_shufflenet.html
echo "Open reports/mobilenet_vs_shufflenet.html in a browser (it works offline)."
