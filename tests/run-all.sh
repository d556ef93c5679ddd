#!/bin/bash
# Run every test layer in order: unit tests, tiny guests on the host's
# /dev/kvm (tests/kvm/run.sh, when present), then the nested-KVM rig.
# Each layer ends with an 'X: N passed, N failed' line; the sums go into the
# final 'all: N passed, N failed'. A layer that fails without such a line
# (crash, build problem) counts as one failure. `make check` builds first.
# Env: SKIP_LAYERS="rig kvm" skips layers by name.
set -uo pipefail
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0 bad=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# layer NAME CMD...: run one layer, echo its output, add up its counts.
layer() {
	local name=$1 rc=0 line p f
	shift
	case " ${SKIP_LAYERS:-} " in *" $name "*) echo "== $name: skipped (SKIP_LAYERS)"; return ;; esac
	echo "== $name: $*"
	"$@" </dev/null 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(tr -d '\r' <"$out" | grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed.*/\2/')
		f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	else
		p=0 f=0
	fi
	# A non-zero exit with no failure counted is still a failure.
	[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	[ "$rc" = 0 ] && [ "$f" = 0 ] || bad+=("$name")
	echo "== $name: exit $rc, $p passed, $f failed"
}

if [ -x tests/unit/run-unit ]; then
	layer unit tests/unit/run-unit
else
	echo "== unit: tests/unit/run-unit missing (run make check)"
	total_fail=$((total_fail + 1)) bad+=(unit)
fi
[ -x tests/kvm/run.sh ] && layer kvm tests/kvm/run.sh
layer rig tests/rig/run-tests.sh

[ ${#bad[@]} -eq 0 ] || echo "failed layers: ${bad[*]}"
echo "all: $total_pass passed, $total_fail failed"
[ ${#bad[@]} -eq 0 ]
