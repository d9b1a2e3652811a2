#!/usr/bin/env bash
# Side-by-side A/B of two `hotline` builds on the IVR key-3 flow, interleaved so both see the
# same machine noise: A, B, A, B, ... at one rate, then the median CPU per call of each and the
# ratio B/A. Usage: Benchmarks/compare.sh BIN_A BIN_B [RATE] [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
a=${1:?BIN_A}; b=${2:?BIN_B}; rate=${3:-200}; seconds=${4:-15}; rounds=${5:-3}
declare -a ra rb
for i in $(seq "$rounds"); do
  for side in a b; do
    bin=$a; [ $side = b ] && bin=$b
    line=$(HOTLINE_BIN=$bin Benchmarks/ivr-key3.sh "$seconds" "$rate" | tail -n 1)
    echo "round $i $side: $line"
    cpu=$(echo "$line" | awk '{print $5}')
    if [ $side = a ]; then ra+=("$cpu"); else rb+=("$cpu"); fi
  done
done
median() { printf "%s\n" "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ma=$(median "${ra[@]}"); mb=$(median "${rb[@]}")
echo "median server CPU per call at $rate calls/s: A $ma ms, B $mb ms, B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}')"
