#!/usr/bin/env bash
# The long variants of the network fault tests (appliance/tests/e2e/network.rs):
# N1 with a compressed day of traffic (86,400 alerts, one a second for 24 h) spooled during an
# outage and drained, then the other network cases once more. The CI runs the short variants
# (5,000 alerts) inside `cargo test`.
#
#   scripts/reliability-network.sh [alerts]     # default 86400
set -euo pipefail
cd "$(dirname "$0")/.."
alerts=${1:-86400}
echo "N1: $alerts alerts spooled during an outage, then drained (release build)"
ICSFWD_N1_ALERTS=$alerts cargo test --release -p icsfwd --test e2e network:: -- --nocapture \
  --test-threads 1 2>&1 | grep -E '^(n1|n8):|^test |test result'
