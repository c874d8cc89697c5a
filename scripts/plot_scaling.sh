#!/usr/bin/env bash
# PNG chart of a scaling CSV (benchmarks/scaling/scaling.sh): speedup over one GPU against the
# GPU count for every case and sync window, with the ideal line.
#   scripts/plot_scaling.sh benchmarks/results/scaling_h200x4.csv benchmarks/results/scaling_h200x4.png
set -euo pipefail
csv=$1 png=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# one data file per (case, sync): columns gpus, speedup
grep -v '^#' "$csv" | tail -n +2 | awk -F, -v dir="$work" '{
  key = $1 "-sync" $5; gsub(/[^A-Za-z0-9_-]/, "_", key)
  print $6, $14 > (dir "/" key ".dat"); keys[key] = 1
} END { for (k in keys) print k > (dir "/keys") }'
plots="x title 'ideal' dashtype 2 lc rgb '#888888'"
for k in $(sort "$work/keys"); do plots="$plots, '$work/$k.dat' using 1:2 with linespoints lw 2 title '$k'"; done
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output '$png'
set title 'Myriad scaling on 4 H200s ($(basename "$csv"))'
set xlabel 'GPUs'
set ylabel 'speedup over 1 GPU (strong), or scaled throughput (weak)'
set xrange [1:4.2]
set yrange [0:4.5]
set xtics (1, 2, 4)
set key left top
set grid
plot $plots
GP
echo "wrote $png"
