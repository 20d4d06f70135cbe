#!/usr/bin/env bash
# Runs clearloop's tests (or one example) as Windows programs, under Wine, on Linux.
#
#   .ci/windows-tests.sh [cargo test arguments...]      the whole suite, or e.g. --test net_tcp
#   RUN=1 .ci/windows-tests.sh --release --example tour -- --virtual
#                                                       one example (cargo run)
#
# Once per machine (idempotent): installs Wine (64-bit) and the MinGW-w64 linker from
# Debian's packages (with sudo when not root), adds the Rust target
# x86_64-pc-windows-gnu, and, since Wine 8 lacks `bcryptprimitives.dll` (which Rust's
# standard library imports since 1.78 for `ProcessPrng`), builds a stand-in DLL that
# answers with `RtlGenRandom` and puts it in the Wine prefix. The build goes to
# target/windows/, beside the Linux one, and is reused by the next run.
#
# When Wine or the linker cannot be installed (no apt, no root), it says so and exits
# with status 3, which CI reports as a skip.
#
# Wine is not Windows: a failure here is worth reading against Microsoft's
# documentation before it is blamed on the code, and a pass is strong evidence, not
# proof.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-pc-windows-gnu
wine=/usr/lib/wine/wine64
skip() { echo "windows-tests: skipped: $*" >&2; exit 3; }

if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || [ ! -x "$wine" ]; then
  root_cmd=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || skip "Wine is not installed, and installing it needs root (no sudo)"
    root_cmd="sudo -n"
  fi
  command -v apt-get >/dev/null 2>&1 || skip "Wine is not installed, and there is no apt-get to install it"
  echo "windows-tests: installing wine64 and gcc-mingw-w64-x86-64 (once per machine)..." >&2
  { $root_cmd apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $root_cmd apt-get install -y -qq --no-install-recommends \
      wine64 gcc-mingw-w64-x86-64 >/dev/null; } ||
    skip "apt-get could not install wine64 and gcc-mingw-w64-x86-64"
fi
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target" >&2 || skip "the Rust target $target could not be installed"
fi

export WINEDEBUG=-all
export WINEPREFIX="${WINEPREFIX:-$HOME/.wine-clearloop}"
if [ ! -f "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  echo "windows-tests: preparing the Wine prefix $WINEPREFIX (once)..." >&2
  "$wine" cmd /c exit >/dev/null 2>&1 || true   # creates the prefix
  tmp=$(mktemp -d)
  cat > "$tmp/prng.c" <<'C'
#include <windows.h>
#include <ntsecapi.h>
/* Stand-in for Windows 10's bcryptprimitives!ProcessPrng, which Wine 8 lacks. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
C
  x86_64-w64-mingw32-gcc -shared -O2 -o "$tmp/bcryptprimitives.dll" "$tmp/prng.c" -ladvapi32
  cp "$tmp/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
  rm -rf "$tmp"
fi

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/windows}"
if [ "${RUN:-0}" = 1 ]; then
  exec cargo run --target "$target" "$@"
fi
exec cargo test --target "$target" "$@"
