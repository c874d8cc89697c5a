#!/usr/bin/env bash
# A run with training writes what docs/output-schema.md says: the trainer's time series, in the
# documented order, right after the model's statistics; /meta train_seconds; the final /network,
# the same weights as the network.save file; and network.init: RESULT.h5 starts a run from those
# weights (a run that does not train ends with them unchanged; one from network.init: random
# does not).
set -euo pipefail
command -v h5dump >/dev/null || { echo "h5dump not found (scripts/setup.sh)"; exit 1; }
cfg="$MYRIAD_SOURCE_DIR/configs/foraging-learn-small.yaml"
common=(--set run.steps=12 --set run.record_every=3 --set run.progress=false --set run.threads=1)
"$MYRIAD_BIN" run "$cfg" "${common[@]}" --set run.output=trained.h5 --set network.save=net.h5 >run.log
fail=0
h5dump -H -q creation_order trained.h5 >header.txt
names=$(grep -o 'DATASET "[a-z_]*"' header.txt | sed 's/DATASET "//; s/"//' | tr '\n' ' ')
want="mean_age train_policy_loss train_value_loss train_policy_entropy train_kl_target_prior train_root_value train_reward train_updates_applied train_updates_skipped train_samples"
case " $names " in
  *" $want "*) ;;
  *) echo "time series: got [$names], expected the trainer's after mean_age: [$want]"; fail=1 ;;
esac
grep -q 'ATTRIBUTE "train_seconds"' header.txt || { echo "no /meta train_seconds"; fail=1; }
weights() { h5dump -d /network/weights -y -w 1 -o "$2" "$1" >/dev/null; }
weights trained.h5 trained.txt
weights net.h5 saved.txt
cmp -s trained.txt saved.txt || { echo "/network of the result differs from network.save"; fail=1; }
applied=$(h5dump -d /timeseries/train_updates_applied -y -w 1 "$PWD/trained.h5" | grep -o '[0-9.]*' | tail -1)
[ "${applied%.*}" -gt 0 ] || { echo "no update was applied ($applied)"; fail=1; }
# Start from the trained network, without training: /network must come out unchanged.
"$MYRIAD_BIN" run "$cfg" "${common[@]}" --set train.enabled=false --set policy.kind=network \
  --set network.init=trained.h5 --set run.output=reused.h5 >/dev/null
weights reused.h5 reused.txt
cmp -s trained.txt reused.txt || { echo "network.init: trained.h5 did not start from the trained weights"; fail=1; }
"$MYRIAD_BIN" run "$cfg" "${common[@]}" --set train.enabled=false --set policy.kind=network \
  --set run.output=fresh.h5 >/dev/null
weights fresh.h5 fresh.txt
cmp -s trained.txt fresh.txt && { echo "the trained weights equal a fresh network's: nothing trained"; fail=1; }
[ $fail -eq 0 ] && echo "trainer result file: OK"
exit $fail
