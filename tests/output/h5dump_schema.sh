#!/usr/bin/env bash
# A result file written by test_output_schema ($OUTPUT_SCHEMA_TEST) is readable by the
# standard HDF5 tools: `h5dump -H` shows the documented groups, datasets and /meta
# attributes, `h5ls -r` lists them, and h5dump prints the time series' values.
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
if [ $fail -ne 0 ]; then
  echo "--- h5dump -H"; cat header.txt; exit 1
fi
echo "h5dump and h5ls read $f: OK"
