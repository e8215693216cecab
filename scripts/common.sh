# Sourced by the scripts in this folder: where things are cached and how failures are said.
# Builds live outside the clone so a fresh clone (and CI on the same machine) reuses them.
FTFUZZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FTFUZZ_CACHE=${FTFUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ftfuzz}
# Where the serialized scheduler may switch threads (scripts/build-cpython): "ops" or
# "atomics" (inside CPython, a build of its own).
FTFUZZ_SCHED_POINTS=${FTFUZZ_SCHED_POINTS:-ops}
# The fuzzing engine the fuzzers link: "libfuzzer", or "afl" (AFL++'s afl-clang-fast
# instruments CPython and the drivers; its driver runs the same entry points).
FTFUZZ_ENGINE=${FTFUZZ_ENGINE:-libfuzzer}
# Each CPython flavour (FTFUZZ_PATCHES=SERIES, FTFUZZ_SCHED_POINTS=atomics,
# FTFUZZ_ENGINE=afl) gets a build directory of its own.
points_suffix=$([ "$FTFUZZ_SCHED_POINTS" = ops ] || echo "-$FTFUZZ_SCHED_POINTS")
engine_suffix=$([ "$FTFUZZ_ENGINE" = libfuzzer ] || echo "-$FTFUZZ_ENGINE")
FTFUZZ_BUILD=${FTFUZZ_BUILD:-$FTFUZZ_ROOT/build$engine_suffix$points_suffix${FTFUZZ_PATCHES:+-$FTFUZZ_PATCHES}}
# Absolute, since scripts run the fuzzers from directories of their own.
FTFUZZ_BUILD=$(realpath -m "$FTFUZZ_BUILD")
# Pinned: the indexes list newer python3.13 versions than the mirrors serve.
FTFUZZ_DEBIAN_PY_VERSIONS="3.13.15-1 3.13.5-2+deb13u5"
CC_BIN=${CC_BIN:-clang-19}
CXX_BIN=${CXX_BIN:-clang++-19}
AFL_CC_BIN=${AFL_CC_BIN:-afl-clang-fast}
AFL_CXX_BIN=${AFL_CXX_BIN:-afl-clang-fast++}
NM_BIN=${NM_BIN:-llvm-nm-19}
OBJCOPY_BIN=${OBJCOPY_BIN:-llvm-objcopy-19}

die() { printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
# positive WHAT VALUE: dies unless VALUE is a whole number above zero.
positive() { case $2 in ''|*[!0-9]*|0) die "$1 must be a positive number, not '$2'" ;; esac; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found; run scripts/install-deps (it installs $2)"; }

# run_step LOG NAME COMMAND...: one step of a build, its output appended to LOG. A failure
# names the step, shows the end of LOG and exits. The step gets a subshell with set -e of
# its own because bash ignores set -e in anything left of ||, &&, or in an if: that is how
# a failed configure once ran on into a build cached as complete. So never call run_step
# itself from such a place.
run_step() {
  local log=$1 name=$2 rc; shift 2
  set +e
  ( set -e; "$@" ) >>"$log" 2>&1
  rc=$?
  set -e
  [ "$rc" = 0 ] && return 0
  tail -n 25 "$log" | sed 's/^/  | /' >&2
  die "build step '$name' failed (exit $rc); full log: $log"
}

# source_version DIR: the CPython version of the source tree DIR (3.14.7).
source_version() {
  sed -n 's/^#define PY_VERSION[[:space:]]*"\(.*\)".*/\1/p' "$1/Include/patchlevel.h"
}

# afl_builds VERSION: whether FTFUZZ_ENGINE=afl builds CPython VERSION in this
# FTFUZZ_SCHED_POINTS flavour. Debian's afl-clang-fast (clang-14) with the atomics hooks
# builds a 3.14 whose python waits for ever in an extension module's first
# _PyOnceFlag_CallOnce (_struct's, during the build itself); clang-19's runs.
afl_builds() {
  [ "$FTFUZZ_SCHED_POINTS" != atomics ] || version_in 3.13 "$1"
}

# The patch files of a series. scripts/patches/series/NAME lists them in order; a line
# "already-in-base: FILE ERE" says a base whose FILE matches ERE has an equivalent
# change upstream already.
series_file() {
  local list=$FTFUZZ_ROOT/scripts/patches/series/$1
  [ -f "$list" ] || die "no patch series '$1'; the series are: $(ls "$FTFUZZ_ROOT/scripts/patches/series" | tr '\n' ' ')"
  echo "$list"
}
series_patches() {
  local list
  list=$(series_file "$1") || exit 1
  grep -vE '^[a-z-]+:' "$list" | sed "s|^|$FTFUZZ_ROOT/scripts/patches/|"
}

# series_no_wait_in NAME: the functions the series says must never wait for a lock
# (its `no-wait-in:` lines, comma-separated), for the wait oracle's policy.
series_no_wait_in() {
  local list
  list=$(series_file "$1") || exit 1
  sed -n 's/^no-wait-in: *//p' "$list" | paste -sd, -
}

# series_touches NAME FILE: whether a patch of the series changes FILE (a path in CPython).
series_touches() {
  grep -qx -- "+++ b/$2" $(series_patches "$1")
}

# apply_series NAME DIR [--dry-run]: applies every patch of the series to DIR, or says
# which patch does not apply to which base, or that the base has the change already.
apply_series() {
  local p base file ere list out
  list=$(series_file "$1") || exit 1
  base=$(source_version "$2")
  while read -r file ere; do
    if grep -qE -- "$ere" "$2/$file" 2>/dev/null; then
      die "series $1 is not needed on CPython $base ($2): its $file already has an equivalent change (matches '$ere')"
    fi
  done < <(sed -n 's/^already-in-base: *//p' "$list")
  for p in $(series_patches "$1"); do
    out=$(patch -p1 -d "$2" --forward --batch ${3:-} < "$p" 2>&1) \
      || die "patch $(basename "$p") of series $1 does not apply to CPython $base ($2): $(failed_hunks "$out")"
  done
}

# failed_hunks PATCH_OUTPUT: "FILE hunk N (at line L), ..." for each hunk patch refused.
failed_hunks() {
  awk '/^(checking|patching) file / { file = $3 }
       /^Hunk #[0-9]+ FAILED at/ { sub(/^#/, "", $2); sub(/\.$/, "", $5); printf "%s%s hunk %s (at line %s)", n++ ? ", " : "", file, $2, $5 }
       /^can.t find file|No file to patch/ { printf "%s%s", n++ ? ", " : "", $0 }
       END { if (!n) printf "patch refused it" }' <<<"$1"
}

# libfuzzer_flags FUZZER: the [libfuzzer] section of FUZZER.options as libFuzzer flags,
# one a line (-max_len=308), as OSS-Fuzz passes them; dies if the file is missing.
libfuzzer_flags() {
  [ -f "$1.options" ] || die "no $1.options: build the fuzzers with scripts/build"
  awk -F' *= *' '/^\[/ { on = ($0 == "[libfuzzer]"); next } on && /^[a-z_]+ *=/ { printf "-%s=%s\n", $1, $2 }' "$1.options"
}

# fork_status LOG: "EXECUTIONS COVERAGE" from the last status line of a libFuzzer
# fork-mode log ("#N: cov: C ..."), or nothing if it has none.
fork_status() {
  grep -E '^#[0-9]+: cov:' "$1" | tail -n 1 | sed -nE 's/^#([0-9]+): cov: ([0-9]+).*/\1 \2/p' || true
}

# Pieces of an `ftfuzz reproduce` output (its text is drivers/report/report.c's and fuzzers/ftfuzz.c's).
reproduce_tally() { grep -m1 -oE '[0-9]+ of [0-9]+ runs reproduced a finding.*' <<<"$1" || true; }
reproduce_build() { grep -m1 -oE 'CPython [^,]+ free-threaded, target [a-z]+, [a-z]+ scheduler, switch points: [a-z]+' <<<"$1" || true; }
reproduce_finding() { grep -m1 -E '==ftfuzz== FINDING|ERROR: AddressSanitizer' <<<"$1" | sed 's/^==ftfuzz== //' || true; }

# version_in SPEC VERSION: whether CPython VERSION (3.14.7) is in SPEC: "3.13" (that
# minor version), "3.14+" (that one and later), or several, comma-separated.
version_in() {
  awk -v specs="$1" -v v="$2" 'BEGIN {
    split(v, p, "."); have = p[1] * 100 + p[2]
    n = split(specs, s, ",")
    for (i = 1; i <= n; i++) {
      spec = s[i]; gsub(/ /, "", spec); plus = sub(/\+$/, "", spec)
      split(spec, q, "."); want = q[1] * 100 + q[2]
      if (have == want || (plus && have > want)) exit 0
    }
    exit 1 }'
}

# regression_expect FILE VERSION: what regression FILE expects on CPython VERSION, or
# "skip: why" when it does not apply there. Header lines (corpus/regressions/README.md):
# "# versions: SPEC", "# expect: KIND" and any number of "# expect on SPEC: KIND".
regression_expect() {
  local versions spec kind expect
  versions=$(sed -n 's/^# versions: *//p' "$1")
  if [ -n "$versions" ] && ! version_in "$versions" "$2"; then
    echo "skip: recorded for CPython $versions, this is $2"; return
  fi
  expect=$(sed -n 's/^# expect: *//p' "$1")
  while IFS=: read -r spec kind; do
    if version_in "$spec" "$2"; then expect=${kind# }; fi
  done < <(sed -n 's/^# expect on \([^:]*\): */\1:/p' "$1")
  echo "$expect"
}

# known_bugs REGRESSIONS_DIR VERSION: each regression entry that records a known CPython
# bug still present on VERSION (it has a "# known: REGEX" and does not expect clean there),
# as FILE, a tab, and REGEX, which matches the bug's FINDING line.
known_bugs() {
  local reg known
  for reg in "$1"/*.txt; do
    [ -e "$reg" ] || continue
    known=$(sed -n 's/^# known: //p' "$reg")
    [ -n "$known" ] || continue
    case $(regression_expect "$reg" "$2") in clean|skip:*) continue ;; esac
    printf '%s\t%s\n' "$reg" "$known"
  done
}

# avoid_known REGRESSIONS_DIR VERSION: FTFUZZ_AVOID for VERSION, the "# avoid: REGEX"
# lines of the known bugs still present there joined into one pattern, and any
# FTFUZZ_AVOID already set; empty if there is nothing to avoid.
avoid_known() {
  local reg known avoid all=${FTFUZZ_AVOID:-}
  while IFS=$'\t' read -r reg known; do
    avoid=$(sed -n 's/^# avoid: //p' "$reg")
    [ -z "$avoid" ] || all="${all:+$all|}($avoid)"
  done < <(known_bugs "$1" "$2")
  printf '%s\n' "$all"
}

# leave_out_known VERSION: exports that FTFUZZ_AVOID for the fuzzers this script starts.
leave_out_known() {
  FTFUZZ_AVOID=$(avoid_known "$FTFUZZ_ROOT/corpus/regressions" "$1")
  export FTFUZZ_AVOID
  if [ -n "$FTFUZZ_AVOID" ]; then
    say "leaving out the ops of known bugs of CPython $1: FTFUZZ_AVOID='$FTFUZZ_AVOID'"
  else
    say "no known bug of CPython $1 has ops to leave out"
  fi
}

# known_bug REGRESSIONS_DIR VERSION FINDING_LINE: the regression entry that records the
# finding as a known CPython bug still present on VERSION, printed; fails if none does.
known_bug() {
  local reg known
  [ -n "$3" ] || return 1
  while IFS=$'\t' read -r reg known; do
    if grep -qE -- "$known" <<<"$3"; then
      echo "$reg"; return 0
    fi
  done < <(known_bugs "$1" "$2")
  return 1
}
