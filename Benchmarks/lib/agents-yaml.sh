#!/usr/bin/env bash
# Benchmarks: an agents.yaml of COUNT generated agents for the benchmarks that register SIPp
# phones (bridge.sh, soak.sh): ids a3001..., sip_username 3001..., password pw-<username>,
# skill general 2, realm hotline, HA1 for MD5 and SHA-256, MD5 challenged first (SIPp 3.6
# answers only the first challenge).
#
# Usage: Benchmarks/lib/agents-yaml.sh COUNT [SEAT] > agents.yaml       (SEAT: on_site or home)
set -euo pipefail
count=$1; seat=${2:-on_site}
echo "realm: hotline"
echo "licensed_seats: $count"
echo "digest_algorithms: [md5, sha256]   # SIPp 3.6 answers only the first challenge, in MD5"
echo "agents:"
for i in $(seq "$count"); do
  user=$((3000 + i)); pass="pw-$user"
  echo "  - id: a$user"
  echo "    name: Bench Agent $i"
  echo "    sip_username: \"$user\""
  echo "    seat: $seat"
  echo "    skills: {general: 2}"
  echo "    ha1_md5: $(printf '%s' "$user:hotline:$pass" | md5sum | cut -d' ' -f1)"
  echo "    ha1_sha256: $(printf '%s' "$user:hotline:$pass" | sha256sum | cut -d' ' -f1)"
done
