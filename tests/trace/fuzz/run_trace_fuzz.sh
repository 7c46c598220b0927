#!/bin/bash
# Builds the trace reader fuzzer with clang and runs it for a bounded time on
# a seed corpus made from the committed traces (whole and cut short).
# Usage: run_trace_fuzz.sh RRVM_SOURCE_DIR BUILD_DIR SECONDS
set -euo pipefail
src=$1 bin=$2 seconds=${3:-20}
if ! command -v clang++ >/dev/null; then
  echo "clang++ not found: install clang to run the trace fuzzer" >&2
  exit 1
fi
cmake -S "$src/tests/trace/fuzz" -B "$bin" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRRVM_SOURCE_DIR="$src" >/dev/null
cmake --build "$bin" -j2 >/dev/null
seeds="$bin/seeds"
rm -rf "$seeds"
mkdir -p "$seeds" "$bin/corpus"
for t in "$src"/traces/*.rrt; do
  name=$(basename "$t" .rrt)
  cp "$t" "$seeds/$name"
  for n in 16 100 400 1000; do head -c "$n" "$t" >"$seeds/$name-$n"; done
done
# New inputs go to corpus/ (kept between runs); seeds are read only.
exec "$bin/trace_reader_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=16384 -print_final_stats=1 -artifact_prefix="$bin/" "$bin/corpus" "$seeds"
