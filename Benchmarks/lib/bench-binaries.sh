# Sourced by the ticket benchmarks: the binaries to compare (HOTLINE_BIN="A B", default the
# release build) in BINS, each checked; the database directory var/bench (a real disk).
read -r -a BINS <<< "${HOTLINE_BIN:-.build/release/hotline}"
for bin in "${BINS[@]}"; do
  [ -x "$bin" ] || { echo "$bin: not found; build it first: swift build -c release" >&2; exit 1; }
done
DIR=var/bench
mkdir -p "$DIR"
