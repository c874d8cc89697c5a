#!/usr/bin/env python3
"""Bytes moved per agent-step from an Nsight Compute CSV (ncu --csv --print-units base
--metrics dram__bytes_read.sum,dram__bytes_write.sum --log-file F): the DRAM bytes read and
written by the step's kernels (initialisation and statistics kernels left out), divided by
the agent-steps of the run.   usage: ncu_bytes.py NCU.csv AGENT_STEPS [--by-kernel]
With --by-kernel, also a table on stderr: each kernel's share of the bytes per agent-step."""
import csv
import sys


def main():
    path, agent_steps = sys.argv[1], float(sys.argv[2])
    total, kernels, by_kernel = 0.0, set(), {}
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if len(r) > 5]
    header = rows[0]
    name_col, metric_col, value_col = header.index("Kernel Name"), header.index("Metric Name"), header.index("Metric Value")
    id_col = header.index("ID")
    for r in rows[1:]:
        name = r[name_col]
        # initialisation, and statistics computed apart (a record, not a step); a step kernel
        # that fuses statistics into its pass names stats_op too, but is not a range kernel
        if "init" in name or ("range_kernel" in name and "stats_op" in name):
            continue
        if r[metric_col] in ("dram__bytes_read.sum", "dram__bytes_write.sum"):
            value = float(r[value_col].replace(",", ""))
            total += value
            kernels.add(r[id_col])
            short = short_name(name)
            by_kernel[short] = by_kernel.get(short, 0.0) + value
    print(f"{total / agent_steps:.2f}")
    print(f"{len(kernels)} step kernels, {total / 1e9:.3f} GB over {agent_steps:.4g} agent-steps", file=sys.stderr)
    if "--by-kernel" in sys.argv:
        for short, value in sorted(by_kernel.items(), key=lambda kv: -kv[1]):
            print(f"  {value / agent_steps:9.2f} B/agent-step  {short}", file=sys.stderr)


def short_name(name):
    """The functor (our kernels) or the CUB algorithm a kernel name stands for."""
    for part in ("_op", "Onesweep", "Histogram", "Scan", "Select", "gather", "cell_keys", "birth_flags", "Exclusive"):
        at = name.find(part)
        if at >= 0:
            start = max(name.rfind("E", 0, at), name.rfind(" ", 0, at), name.rfind("I", 0, at)) + 1
            return name[start:at + len(part)] if part == "_op" else part
    return name[:60]


if __name__ == "__main__":
    main()
