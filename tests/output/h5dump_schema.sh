#!/usr/bin/env bash
# A result file written by test_output_schema ($OUTPUT_SCHEMA_TEST) is readable by the
# standard HDF5 tools: `h5dump -H` shows the documented groups, datasets and /meta
# attributes, `h5ls -r` lists them, and h5dump prints the time series' values. The chunks
# that Myriad compresses on its own threads (sim/h5util.c, myr__h5_write) decompress in
# h5dump to the simulation's state: each dataset of the test's h5dump.list (1-D, [n, 3], grids
# with partial row and column chunks; snapshots and checkpoints), dumped as raw little-endian
# bytes, equals the bytes the test wrote from memory, and h5dump -p shows its filters.
set -euo pipefail
command -v h5dump >/dev/null || { echo "h5dump not found (apt-get install hdf5-tools)"; exit 1; }
"$OUTPUT_SCHEMA_TEST" "$PWD" >schema-test.log || { cat schema-test.log; exit 1; }
f="$PWD/results/result.h5"
h5dump -H "$f" >header.txt
fail=0
expect() {
  if ! grep -q -- "$1" header.txt; then echo "h5dump -H lacks: $1"; fail=1; fi
}
for g in '"/"' '"meta"' '"timeseries"' '"snapshots"' '"agents"' '"grid"'; do expect "GROUP $g"; done
for a in format version git_revision config config_resolved seed ranks devices backend model \
         threads steps state_hash final_step wall_seconds completed; do
  expect "ATTRIBUTE \"$a\""
done
for d in step population births deaths id; do expect "DATASET \"$d\""; done
expect 'H5T_STRING'
expect 'H5T_STD_U64LE'
expect 'H5T_IEEE_F64LE'
expect 'DATASPACE  SIMPLE { ( 5 ) / ( H5S_UNLIMITED ) }'
expect 'DATASPACE  SIMPLE { ( 240, 320 ) / ( 240, 320 ) }'
h5ls -r "$f" >ls.txt
grep -q '^/snapshots/4/agents/id' ls.txt || { echo "h5ls -r lacks /snapshots/4/agents/id"; fail=1; }
h5dump -d /timeseries/step "$f" >step.txt
grep -q '(0): 0, 1, 2, 3, 4' step.txt || { echo "h5dump -d /timeseries/step:"; cat step.txt; fail=1; }
list="$PWD/h5dump.list"
[ -s "$list" ] || { echo "the test wrote no $list"; exit 1; }
n=0
while read -r file dataset expected; do
  rm -f got.bin
  if ! h5dump -d "$dataset" -b LE -o got.bin "$file" >dump.txt 2>&1; then
    echo "h5dump -d $dataset $file failed:"; cat dump.txt; fail=1; continue
  fi
  if ! cmp got.bin "$expected"; then echo "h5dump reads $file $dataset differently from memory"; fail=1; fi
  h5dump -p -H -d "$dataset" "$file" >props.txt
  if grep -q CHUNKED props.txt && ! grep -q 'COMPRESSION DEFLATE' props.txt; then
    echo "$file $dataset is chunked but not deflated:"; cat props.txt; fail=1
  fi
  n=$((n + 1))
done <"$list"
if [ $fail -ne 0 ]; then
  echo "--- h5dump -H"; cat header.txt; exit 1
fi
echo "h5dump and h5ls read $f, and h5dump reads $n datasets of $list as they were in memory: OK"
