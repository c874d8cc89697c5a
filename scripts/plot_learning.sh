#!/usr/bin/env bash
# Learning curves of a training run: a PNG with four panels over the run's steps, from the
# trainer's time series in the result file (search/trainer.h, docs/output-schema.md):
#   losses    train_policy_loss (cross-entropy), train_value_loss ((v - z)^2)
#   policy    train_policy_entropy (of the network's prior), train_kl_target_prior (KL(search || prior))
#   value     train_root_value (search), train_reward (real agent-steps)
#   run       population, train_updates_applied
#
#   scripts/plot_learning.sh RESULT.h5 [OUT.png] [TITLE]
#
# Default OUT: RESULT without .h5, plus -learning.png. Needs h5dump (hdf5-tools) and gnuplot
# (gnuplot-nox), both from scripts/setup.sh. Rows without an update since the previous record
# hold NaN and are left out of the lines.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
in=$1
out=${2:-${in%.h5}-learning.png}
title=${3:-$(basename "$in")}
command -v h5dump >/dev/null || { echo "plot_learning.sh: h5dump not found (scripts/setup.sh)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot_learning.sh: gnuplot not found (scripts/setup.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=(step train_policy_loss train_value_loss train_policy_entropy train_kl_target_prior train_root_value train_reward population train_updates_applied)
for n in "${names[@]}"; do
  h5dump -d "/timeseries/$n" -y -w 1 -o "$tmp/$n.raw" "$in" >/dev/null ||
    { echo "plot_learning.sh: $in has no /timeseries/$n (a run with train.enabled: true?)" >&2; exit 1; }
  tr -d ' ,' <"$tmp/$n.raw" | grep -v '^$' | sed 's/^-nan$/nan/; s/^nan$/NaN/' >"$tmp/$n"
done
paste "${names[@]/#/$tmp/}" >"$tmp/data"

gnuplot <<EOF
set terminal pngcairo size 1200,900 font ",10" noenhanced
set output "$out"
set datafile missing "NaN"
set multiplot layout 2,2 title "$title"
set xlabel "step"
set grid
set key top right
set title "losses"
plot "$tmp/data" using 1:2 with lines lw 2 title "policy cross-entropy", \
     "" using 1:3 with lines lw 2 title "value (v - z)^2"
set title "policy"
plot "$tmp/data" using 1:4 with lines lw 2 title "prior entropy", \
     "" using 1:5 with lines lw 2 title "KL(search || prior)"
set title "value and reward"
plot "$tmp/data" using 1:6 with lines lw 2 title "mean root value", \
     "" using 1:7 with lines lw 2 title "mean reward per agent-step"
set title "run"
set ytics nomirror
set y2tics
plot "$tmp/data" using 1:8 with lines lw 2 title "population", \
     "" using 1:9 axes x1y2 with lines lw 2 title "updates applied (right)"
unset multiplot
EOF
echo "$out"
