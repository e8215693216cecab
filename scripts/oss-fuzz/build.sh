#!/bin/bash -eu
# OSS-Fuzz build of ftfuzz. Builds free-threaded CPython from $SRC/cpython with the
# platform's $CC/$CFLAGS, installed into $OUT (the fuzzers find its standard library in
# $OUT/lib/python3.Nt beside them, wherever the runner unpacks $OUT), then every fuzzer
# with $LIB_FUZZING_ENGINE, and beside each one its .options, seed corpus and dictionary.
# OSS-Fuzz runs this with bash -eu, the emulation with plain bash: say it here.
set -eu
ftfuzz=$SRC/ftfuzz
# Which step a failure stopped in, for the last line of the log.
step=start
trap 'rc=$?; [ "$rc" = 0 ] || echo "build.sh: failed in step $step (exit $rc)" >&2' EXIT

# The build runs the new interpreter; its start-up allocations are not leaks.
export ASAN_OPTIONS=detect_leaks=0
# configure takes -pthread in CFLAGS as proof that threads need no flag, then fails.
CFLAGS=${CFLAGS//-pthread/}
CXXFLAGS=${CXXFLAGS//-pthread/}

# CPython's compares never test the input's bytes (the fuzzers decode them, with the
# platform's flags): their tracing would only mix pointers and refcounts into libFuzzer's
# mutations, at a tenth of the fuzzers' cycles.
cpython_cflags=$CFLAGS
[ "$FUZZING_ENGINE" != libfuzzer ] || cpython_cflags="$CFLAGS -fno-sanitize-coverage=trace-cmp"

config=(--disable-gil --disable-test-modules --with-ensurepip=no --prefix="$OUT")
case $SANITIZER in
  address) config+=(--with-address-sanitizer) ;;
  undefined) config+=(--with-undefined-behavior-sanitizer) ;;
  coverage | none) ;;
  *) echo "build.sh: SANITIZER=$SANITIZER is not supported: free-threaded CPython allocates" \
       "with mimalloc, which MemorySanitizer cannot see" >&2; exit 1 ;;
esac

# Out of tree, so a rebuild with other flags never meets a configured source. A configure
# that failed half way can leave a Makefile behind: only the marker says it finished, and
# with which compiler and flags; objects of other flags are not reused.
configured="$CC $cpython_cflags ${config[*]}"
if [ "$(cat "$WORK/cpython/.configured" 2>/dev/null)" != "$configured" ]; then
  step=configure
  rm -rf "$WORK/cpython"
  mkdir -p "$WORK/cpython"
  cd "$WORK/cpython"
  CC=$CC CXX=$CXX CFLAGS="$cpython_cflags" "$SRC/cpython/configure" -q "${config[@]}"
  printf '%s\n' "$configured" > .configured
fi
cd "$WORK/cpython"
step=make
make -j"$(nproc)"
# No byte-compiling of the whole stdlib: the fuzzers read few modules and write no .pyc.
step=install
make altinstall PYTHON_FOR_BUILD=true
# Except the codec each fuzzer imports at start (UTF-8 mode), which would otherwise be
# compiled from source in every fuzzing process.
step="byte-compile the start-up codec"
"$OUT"/bin/python3.*t -I -m py_compile "$OUT"/lib/python3.*t/encodings/{__init__,aliases,utf_8}.py

step="build the fuzzers"
cmake -S "$ftfuzz" -B "$WORK/ftfuzz" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DPYTHON_PREFIX="$OUT" -DFTF_EXTERNAL_FLAGS=ON -DLIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$WORK/ftfuzz" --target fuzzers -j"$(nproc)"

step="copy the fuzzers, options, dictionaries and seeds into \$OUT"
while read -r fuzzer; do
  cp "$WORK/ftfuzz/$fuzzer" "$WORK/ftfuzz/$fuzzer.options" "$OUT/"
  cp "$ftfuzz/fuzzers/dicts/$fuzzer.dict" "$OUT/"
  zip -q -j "$OUT/${fuzzer}_seed_corpus.zip" "$ftfuzz/corpus/$fuzzer"/*.bin
done <"$WORK/ftfuzz/shipped-fuzzers.txt"
