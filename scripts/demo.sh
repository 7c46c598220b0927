#!/usr/bin/env bash
# The README main command: sets everything up, builds, and runs the demo guest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
./build/cli/rrvm run build/guests/hello.bin
