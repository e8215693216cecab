# Sourced by the scripts in this folder: where things are cached and how failures are said.
# Builds live outside the clone so a fresh clone (and CI on the same machine) reuses them.
FTFUZZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FTFUZZ_CACHE=${FTFUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ftfuzz}
FTFUZZ_BUILD=${FTFUZZ_BUILD:-$FTFUZZ_ROOT/build}
# Pinned: the indexes list newer python3.13 versions than the mirrors serve.
FTFUZZ_DEBIAN_PY_VERSIONS="3.13.15-1 3.13.5-2+deb13u5"
CC_BIN=${CC_BIN:-clang-19}
CXX_BIN=${CXX_BIN:-clang++-19}

die() { printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found; run scripts/install-deps (it installs $2)"; }
