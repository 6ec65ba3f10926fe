#!/bin/bash
# Hashes of what runs print, to check that a change keeps them byte-identical: for each built-in
# backend, the JSON report and Chrome trace of five workloads (halt and mwait idle), a second
# seed, and `smpcall conform`'s output without its timings. Build first (npm run build), run it
# before and after the change, and diff the two files.
# Usage: bash examples/bench/output-hashes.sh OUTFILE
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
S="node $root/examples/bin/smpcall.js"
out=$(realpath -m "$1")
: >"$out"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# One fixed trace path: the report names the trace file, so it must not change between runs.
cd "$d"
for a in generic x86 powerpc sparc; do
  for w in "broadcast --cpus 64 --ops 40" "mixed --cpus 16 --ops 400" "single-storm --cpus 32 --ops 2000" \
    "sched-wakeups --cpus 8 --ops 300" "tlb-shootdown --cpus 16 --ops 200"; do
    for idle in halt mwait; do
      # shellcheck disable=SC2086 # $w holds several arguments
      $S run --arch $a --workload $w --idle $idle --trace t.json --json >r.json 2>&1
      echo "$a $w $idle report $(sha1sum <r.json | cut -c1-12) trace $(sha1sum <t.json 2>/dev/null | cut -c1-12)" >>"$out"
      rm -f t.json
    done
  done
  $S run --arch $a --workload mixed --cpus 16 --ops 400 --seed 7 --trace j.json >/dev/null 2>&1
  echo "$a mixed seed7 trace $(sha1sum <j.json | cut -c1-12)" >>"$out"
  $S conform --arch $a >c.txt 2>&1
  echo "$a conform $(grep -v -i 'ms\b\|seconds\|[0-9]s)' c.txt | sha1sum | cut -c1-12)" >>"$out"
done
