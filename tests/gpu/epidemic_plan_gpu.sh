# GPU (label gpu; exit 77 = skipped without a GPU): epidemic agents deciding by MCTS over the
# go-out-or-stay planning interface give the CPU backend's hash on the CUDA backend.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || { echo "no GPU: skipped"; exit 77; }
cfg=$MYRIAD_SOURCE_DIR/configs/epidemic-city.yaml
small=(-n 24 -s agents.count=20000 -s world.width=100 -s world.height=100 -s model.params.initial_infected=2000
       -s policy.kind=mcts -s policy.mcts.simulations=8 -s model.params.infection_cost=500 -s run.record_every=24)
cpu=$(run_hash "$cfg" "${small[@]}" -b cpu -o cpu.h5)
gpu=$(run_hash "$cfg" "${small[@]}" -b cuda -o gpu.h5)
echo "cpu $cpu, gpu $gpu"
check "epidemic mcts: GPU hash == CPU hash" test ${#cpu} -eq 64 -a "$gpu" = "$cpu"
finish
