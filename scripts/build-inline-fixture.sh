#!/usr/bin/env bash
# Rebuilds fixtures/inline/: the inline-crasher program, its minidump, its Breakpad
# symbols (with INLINE records) and the addr2line oracle. See fixtures/inline/README.md.
#
# Needs: g++, make, binutils (addr2line), llvm (llvm-addr2line), npm (for Breakpad's
# source and tools: the `minidump` npm package 0.26.0, installed into
# .cache/breakpad-inline/, gitignored, as is everything built there).
# Every run writes a new dump (addresses, timing and the second thread's exact stopping
# point differ), so commit the whole fixture folder together; test/minidump/inline.test.ts
# derives its expectations from the source and the files written here.
# Usage: scripts/build-inline-fixture.sh            (from anywhere)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache/breakpad-inline"
OUT="$ROOT/fixtures/inline"
PKG="$CACHE/node_modules/minidump"
BP="$PKG/deps/breakpad"
TOOLS="$PKG/bin/linux-x64"
BUILD="$CACHE/build"

# 1. Breakpad: prebuilt tools and source (install scripts need yarn; not needed here).
if [ ! -x "$TOOLS/dump_syms" ]; then
  mkdir -p "$CACHE"
  npm install --ignore-scripts --no-audit --no-fund --prefix "$CACHE" minidump@0.26.0 >"$CACHE/install.log" 2>&1
fi
usage=$("$TOOLS/dump_syms" 2>&1 || true)
grep -q -- '-d  *Generate INLINE' <<<"$usage" || { echo "dump_syms has no -d (INLINE records)" >&2; exit 1; }

# 2. Breakpad's Linux client library, built out of tree as the package's own build.js
# does (its Linux Syscall Support header lives in deps/third_party/lss).
BPBUILD="$CACHE/breakpad-build"
LIB="$BPBUILD/src/client/linux/libbreakpad_client.a"
if [ ! -f "$LIB" ]; then
  mkdir -p "$BPBUILD"
  (cd "$BPBUILD" && CPPFLAGS="-I$PKG/deps" "$BP/configure" >"$CACHE/configure.log" 2>&1 &&
    make -j"$(nproc)" CXXFLAGS="-g -O2 -Wno-error" src/client/linux/libbreakpad_client.a >"$CACHE/make.log" 2>&1) ||
    { echo "building Breakpad failed: see $CACHE/configure.log and make.log" >&2; exit 1; }
fi

# 3. The crasher. Compiled from the project root with a relative source path and the root
# mapped to /mayday, so the debug info (and every file name in the .sym and the oracle)
# is /mayday/fixtures/inline/src/inline-crasher.cc wherever the tree lives.
# -gdwarf-4: this dump_syms (Breakpad, mid-2023) cannot read DWARF 5 range lists
# (.debug_rnglists: "DW_AT_ranges ... but the .debug_ranges section is missing") and
# silently drops every inlined call whose code is not one contiguous range; g++ 12's
# default DWARF 5 would lose the innermost `store_value` and all of `run_jobs`' inlines.
mkdir -p "$BUILD"
BIN="$BUILD/inline-crasher"
(cd "$ROOT" && g++ -g -gdwarf-4 -O2 -std=c++17 -fdebug-prefix-map="$ROOT"=/mayday \
  -I"$BP/src" -I"$PKG/deps" fixtures/inline/src/inline-crasher.cc "$LIB" -lpthread -o "$BIN")

# 4. Crash it with a clean environment (a Linux minidump records environ and cmdline).
DUMPS="$BUILD/dumps"
rm -rf "$DUMPS" && mkdir -p "$DUMPS"
set +e
(env -i PATH=/usr/bin:/bin HOME=/home/user "$BIN" "$DUMPS"; exit $?) >"$BUILD/run.log" 2>&1
status=$?
set -e
DUMP=$(ls "$DUMPS"/*.dmp 2>/dev/null | head -n1 || true)
if [ -z "$DUMP" ]; then echo "no minidump written (exit $status)" >&2; cat "$BUILD/run.log" >&2; exit 1; fi
cp "$DUMP" "$OUT/inline-crasher.dmp" && chmod 644 "$OUT/inline-crasher.dmp"

# 5. Symbols: the crasher with INLINE/INLINE_ORIGIN records (-d); libc and the dynamic
# loader (stripped on this system: PUBLIC and STACK CFI only) so walks continue past main
# and the second thread's start routine.
rm -rf "$OUT/symbols"
store_symbols() { # FILE [dump_syms options...]
  local file=$1; shift
  local tmp="$BUILD/$(basename "$file").sym"
  "$TOOLS/dump_syms" "$@" "$file" >"$tmp" 2>"$BUILD/dump_syms.log"
  local id name
  read -r _ _ _ id name <"$tmp"
  mkdir -p "$OUT/symbols/$name/$id"
  mv "$tmp" "$OUT/symbols/$name/$id/$name.sym"
}
store_symbols "$BIN" -d
libs=$(ldd "$BIN" | awk '/libc\.so|ld-linux/ { print ($3 ~ /^\//) ? $3 : $1 }')
for lib in $libs; do store_symbols "$(readlink -f "$lib")" ; done

# 6. Breakpad's reference output for the dump (its processor reports inline frames too).
"$TOOLS/minidump_stackwalk" -m "$OUT/inline-crasher.dmp" "$OUT/symbols" >"$OUT/inline-crasher.breakpad-m.txt" 2>/dev/null
"$TOOLS/minidump_stackwalk" "$OUT/inline-crasher.dmp" "$OUT/symbols" >"$OUT/inline-crasher.breakpad.txt" 2>/dev/null

# 7. The oracle, straight from the DWARF: `addr2line -i -f -C` at the lookup address of
# every physical frame in inline-crasher (the instruction pointer for a context frame,
# return address - 1 for a caller), with the instruction pointers taken from Breakpad's
# human-readable output (context and CFI frames only; scanned frames are guesses).
# Both binutils' addr2line and LLVM's: binutils 2.40 names the innermost level after the
# ELF symbol (the physical function) instead of the inlined function; LLVM's gets it right.
read -r base end < <(awk -F'|' '$1 == "Module" && $2 == "inline-crasher" { print $6, $7 }' "$OUT/inline-crasher.breakpad-m.txt")
lookups=$(awk '
  /^Thread [0-9]+/ { thread = $2; frame = -1; next }
  /^ *[0-9]+  / { rip = ""; next }
  /rip = 0x/ { for (i = 1; i < NF; i++) if ($i == "rip") rip = $(i + 2) }
  /Found by:/ {
    if ($0 ~ /inline record/) next
    frame++
    if (rip != "" && $0 ~ /(instruction pointer in context|call frame info)/)
      print thread, frame, rip, ($0 ~ /context/ ? 0 : 1)
  }' "$OUT/inline-crasher.breakpad.txt")
oracle() { # TOOL
  echo "# $1 -i -f -C -e inline-crasher ADDR"
  echo "# One block per physical frame in inline-crasher: 'thread T frame F lookup 0xADDR' (F counts"
  echo "# physical frames only), then FUNCTION / FILE:LINE pairs, innermost inlined function first."
  while read -r thread frame rip caller; do
    (( rip >= base && rip <= end )) || continue
    offset=$(printf '0x%x' $(( rip - base - caller )))
    echo "thread $thread frame $frame lookup $offset"
    "$1" -i -f -C -e "$BIN" "$offset"
  done <<<"$lookups"
}
oracle addr2line >"$OUT/expected-addr2line.txt"
oracle llvm-addr2line >"$OUT/expected-llvm-addr2line.txt"

echo "wrote $OUT: inline-crasher.dmp, symbols/, Breakpad's outputs, addr2line oracles"
du -sh "$OUT/symbols"/*/*/*
