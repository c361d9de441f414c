#!/bin/sh
# run-fuzzer.sh TARGET SECONDS WORKDIR SEEDS: fuzz TARGET for SECONDS.  New
# inputs go to WORKDIR (libFuzzer writes into its first corpus directory), so
# the seed corpus in the source tree is only read.  Crashes, leaks and
# timeouts make libFuzzer exit non-zero, which fails the test (its default
# error exit code is 77, which meson would count as a skip: hence 1).
set -eu
target=$1 seconds=$2 work=$3 seeds=$4
mkdir -p "$work/corpus" "$work/artifacts"
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
