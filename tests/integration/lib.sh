# Shared helpers for the command-line tests. Each test script is run as
#   bash test_X.sh /path/to/medkd SCRATCH_DIR
set -euo pipefail
MEDKD=$1
SCRATCH=$2
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_exit CODE PATTERN -- command...: runs the command, checks its exit code, that stderr is
# exactly one line when the code is 2, and that stderr matches PATTERN (grep -E).
expect_exit() {
  local code=$1 pattern=$2
  shift 3
  local rc=0
  "$@" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" || rc=$?
  if [ "$rc" -ne "$code" ]; then
    fail "expected exit $code, got $rc: $*"
    sed 's/^/  stderr: /' "$SCRATCH/stderr" >&2
    return
  fi
  if [ "$code" -eq 2 ] && [ "$(grep -c '' "$SCRATCH/stderr")" -ne 1 ]; then
    fail "expected one line on stderr: $*"
    sed 's/^/  stderr: /' "$SCRATCH/stderr" >&2
  fi
  if ! grep -qE -- "$pattern" "$SCRATCH/stderr" "$SCRATCH/stdout"; then
    fail "output does not match '$pattern': $*"
    sed 's/^/  stderr: /' "$SCRATCH/stderr" >&2
  fi
}

# expect_file_contains FILE PATTERN
expect_file_contains() {
  if ! grep -qE -- "$2" "$1"; then fail "$1 does not contain '$2'"; fi
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
