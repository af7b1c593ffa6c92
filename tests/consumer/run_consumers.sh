#!/usr/bin/env bash
# consumer.*: does ndislock work for its users, taken the ways they take it?
#
#   run_consumers.sh [--from install|deb|fetchcontent] BUILD_DIR SOURCE_DIR C_COMPILER [ITERATIONS]
#
# --from says how the consumers get ndislock (default install):
#   install       consumer.installed_package: `cmake --install BUILD_DIR --prefix PREFIX`;
#   deb           consumer.debian_package: `cpack` in BUILD_DIR makes the Debian package, which is
#                 installed by dpkg (its scripts run; no root, nothing installed on the machine) into a
#                 temporary root; PREFIX is its /usr;
#   fetchcontent  consumer.fetchcontent: the CMake consumer brings ndislock in with FetchContent
#                 from SOURCE_DIR (no network) and builds it as part of itself; steps 1 and 3 do
#                 not apply.
#
# 1. brings the libraries of BUILD_DIR up to date and installs them into PREFIX as --from says,
#    and checks what landed there;
# 2. CMake consumer (cmake_consumer/): find_package(ndislock CONFIG REQUIRED) with
#    CMAKE_PREFIX_PATH=PREFIX (or FetchContent); runs consumer_shared (ndislock::ndislock) and
#    consumer_static (ndislock::ndislock_static);
# 3. pkg-config consumer, PKG_CONFIG_PATH=<the installed .pc's directory>, the same main.c:
#      dynamic:  cc $(pkg-config --cflags ndislock) main.c ... $(pkg-config --libs ndislock)
#                run with LD_LIBRARY_PATH=<prefix libdir>
#      static:   cc $(pkg-config --cflags ndislock-static) main.c ... $(pkg-config --libs ndislock-static)
#                (the module names libndislock.a by path), run with no LD_LIBRARY_PATH although
#                PREFIX is outside the loader's path
#    (both with -std=c11 -Wall -Wextra -Wpedantic -Werror), and checks with ldd (and readelf -d)
#    that the dynamic programs load libndislock.so from PREFIX and that the static ones do not
#    need it at all;
# 4. docs/install.md's commands word for word: the lines of its two ```sh blocks, read from the
#    file and run as written (only <prefix> replaced by PREFIX) on an app.c made of the same
#    checks, with `cc` the C compiler given; so the documented commands cannot drift from what
#    is tested.
# The temporary directory is removed on exit, pass or fail.
set -euo pipefail

from=install
if [[ ${1:-} == --from ]]; then
    from=${2:-}
    shift 2
fi
if [[ $# -lt 3 || ! $from =~ ^(install|deb|fetchcontent)$ ]]; then
    echo "usage: $0 [--from install|deb|fetchcontent] BUILD_DIR SOURCE_DIR C_COMPILER [ITERATIONS]" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
cc=$3
iterations=${4:-5000}
consumer_dir=$source_dir/tests/consumer
checks_dir=$source_dir/tests/c11
main_c=$consumer_dir/cmake_consumer/main.c

# The programs must find libndislock through the package alone (RPATH for CMake, an explicit
# LD_LIBRARY_PATH below for pkg-config), never through an inherited path to the build tree.
unset LD_LIBRARY_PATH
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ndislock-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

failures=0
step() { printf '\n==== %s\n' "$*"; }
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*"
    failures=$((failures + 1))
}
# run_logged LOG COMMAND...: runs the command with its output in LOG, shown only on failure.
run_logged() {
    local log=$1
    shift
    if "$@" >"$log" 2>&1; then
        return 0
    else
        local rc=$?
        printf '  command failed (exit %d): %s\n' "$rc" "$*"
        sed 's/^/  | /' "$log"
        return "$rc"
    fi
}

# ---- 1. Install ------------------------------------------------------------------------------
install_from_build() {
    step "building ndislock and ndislock_static in $build_dir (no-op when up to date)"
    run_logged "$tmp/build.log" cmake --build "$build_dir" --target ndislock ndislock_static --parallel 2

    if [[ $from == install ]]; then
        step "installing $build_dir into $prefix"
        run_logged "$tmp/install.log" cmake --install "$build_dir" --prefix "$prefix"
        sed 's/^/  /' "$tmp/install.log"
    else
        # What a user of the .deb gets: the package cpack makes from this build, installed by
        # dpkg under a temporary root as it would be under /.
        step "making the Debian package (cpack) of $build_dir and installing it into $tmp/root"
        run_logged "$tmp/cpack.log" cpack --config "$build_dir/CPackConfig.cmake" -B "$tmp/cpack"
        local deb
        deb=$(find "$tmp/cpack" -maxdepth 1 -name '*.deb' | head -n 1)
        if [[ -z $deb ]]; then
            sed 's/^/  | /' "$tmp/cpack.log"
            fail "cpack made no .deb"
            exit 1
        fi
        pass "cpack made $(basename "$deb")"
        dpkg-deb --info "$deb" | sed 's/^/  /'
        if [[ $(dpkg-deb --field "$deb" Package) == ndislock-dev && -n $(dpkg-deb --field "$deb" Depends) ]]; then
            pass "package ndislock-dev, Depends: $(dpkg-deb --field "$deb" Depends)"
        else
            fail "the package's control fields: Package '$(dpkg-deb --field "$deb" Package)', Depends '$(dpkg-deb --field "$deb" Depends)'"
        fi
        if dpkg-deb --contents "$deb" | awk '{print $6}' | grep -qv '^\./usr/'; then
            fail "the package installs outside /usr: $(dpkg-deb --contents "$deb" | awk '{print $6}' | grep -v '^\./usr/' | head -n 3 | tr '\n' ' ')"
        else
            pass "every file of the package is under /usr"
        fi
        # Installed by dpkg itself, as `apt install ./ndislock-dev_*.deb` would, but into a
        # private root with its own dpkg database: the package's maintainer scripts run (chrootless,
        # with an ldconfig stand-in first in PATH, so the machine's own cache is left alone and no
        # root is needed), and dpkg must record it "install ok installed". Its dependencies are
        # checked against this machine's packages by apt's simulation (nothing is installed).
        if command -v apt-get > /dev/null; then
            if apt-get install --simulate "$deb" > "$tmp/apt-simulate.log" 2>&1; then
                pass "apt would install it here: its dependencies are satisfied"
            else
                sed 's/^/  | /' "$tmp/apt-simulate.log"
                fail "apt-get install --simulate $(basename "$deb") failed"
            fi
        else
            echo "  SKIP: no apt-get here: the package's Depends are not checked against this machine"
        fi
        mkdir -p "$tmp/root/var/lib/dpkg/info" "$tmp/root/var/lib/dpkg/updates" "$tmp/shim"
        : > "$tmp/root/var/lib/dpkg/status"
        : > "$tmp/root/var/lib/dpkg/available"
        printf '#!/bin/sh\necho "ldconfig $* (the test root: the machine cache is left alone)"\n' > "$tmp/shim/ldconfig"
        chmod +x "$tmp/shim/ldconfig"
        if PATH="$tmp/shim:$PATH:/usr/sbin:/sbin" run_logged "$tmp/dpkg-install.log" dpkg --root="$tmp/root" --force-not-root \
            --force-depends --force-script-chrootless --install "$deb" &&
            grep -qx 'Status: install ok installed' "$tmp/root/var/lib/dpkg/status"; then
            pass "dpkg installed it (maintainer scripts run): $(grep -x 'Status: .*' "$tmp/root/var/lib/dpkg/status")"
        else
            fail "dpkg --install of $(basename "$deb") failed (its log is above)"
            exit 1
        fi
        prefix=$tmp/root/usr
    fi

    pc_file=$(find "$prefix" -name ndislock.pc -path '*/pkgconfig/*' | head -n 1)
    config_file=$(find "$prefix" -name ndislockConfig.cmake | head -n 1)
    if [[ -z $pc_file ]]; then
        fail "no pkgconfig/ndislock.pc installed under $prefix"
        exit 1
    fi
    pkgconfig_dir=$(dirname "$pc_file")
    libdir=$(dirname "$pkgconfig_dir") # <prefix>/lib or <prefix>/lib/<multiarch> (GNUInstallDirs)
    pass "ndislock.pc installed: ${pc_file#"$prefix"/}"
    if [[ -n $config_file ]]; then pass "ndislockConfig.cmake installed: ${config_file#"$prefix"/}"; else fail "no ndislockConfig.cmake installed"; fi
    for f in "$libdir/libndislock.so" "$libdir/libndislock.a" "$prefix/include/ndislock/ndis.h" \
        "$prefix/include/ndislock/ext.h" "$prefix/include/ndislock/wdk_types.h" "$prefix/include/ndislock/sal.h" \
        "$prefix/include/ndislock/wdk.h" "$prefix/include/wdk/ndis.h" "$prefix/include/wdk/wdm.h" \
        "$libdir/pkgconfig/ndislock-wdk.pc" "$libdir/pkgconfig/ndislock-static.pc" \
        "$prefix/share/ndislock/valgrind.supp"; do
        if [[ -e $f ]]; then pass "installed: ${f#"$prefix"/}"; else fail "missing from the install: ${f#"$prefix"/}"; fi
    done
    local soname_link
    soname_link=$(find "$libdir" -maxdepth 1 -name 'libndislock.so.*' | sort | head -n 1)
    if [[ -n $soname_link ]]; then pass "versioned shared library installed: ${soname_link#"$prefix"/}"; else fail "no libndislock.so.<version>"; fi
}
if [[ $from != fetchcontent ]]; then
    install_from_build
fi

# names_dir FLAG DIR WORD...: true if one of the WORDs is FLAG<path> with <path> resolving to DIR.
names_dir() {
    local flag=$1 want word
    want=$(realpath -m "$2")
    shift 2
    for word in "$@"; do
        if [[ $word == "$flag"* ]] && [[ $(realpath -m "${word#"$flag"}") == "$want" ]]; then return 0; fi
    done
    return 1
}

# ldd_check PROGRAM dynamic|static [LD_LIBRARY_PATH]: where libndislock comes from, if anywhere.
ldd_check() {
    local program=$1 kind=$2 path=${3:-} line
    if [[ -n $path ]]; then
        line=$(LD_LIBRARY_PATH=$path ldd "$program" | grep 'libndislock' || true)
    else
        line=$(ldd "$program" | grep 'libndislock' || true)
    fi
    if [[ $kind == dynamic ]]; then
        if [[ $line == *"=> $prefix/"* ]]; then
            pass "$(basename "$program") loads libndislock from $prefix:${line}"
        else
            fail "$(basename "$program") should load libndislock.so from $prefix; ldd says: '${line:-nothing}'"
        fi
    else
        if [[ -z $line ]]; then
            pass "$(basename "$program") has no dynamic dependency on libndislock (ldd)"
        else
            fail "$(basename "$program") should be linked statically, yet ldd lists:${line}"
        fi
    fi
}

# run_consumer NAME PROGRAM [LD_LIBRARY_PATH]: runs the contract checks; the output is shown on failure.
run_consumer() {
    local name=$1 program=$2 path=${3:-} rc=0
    step "running $name: $program $iterations"
    if [[ -n $path ]]; then
        LD_LIBRARY_PATH=$path "$program" "$iterations" >"$tmp/$name.out" 2>&1 || rc=$?
    else
        "$program" "$iterations" >"$tmp/$name.out" 2>&1 || rc=$?
    fi
    grep -E '^(FAIL|WATCHDOG)' "$tmp/$name.out" || true
    if [[ $rc -eq 0 ]] && tail -n 1 "$tmp/$name.out" | grep -Eq '^[1-9][0-9]* passed, 0 failed$'; then
        pass "$name: $(tail -n 1 "$tmp/$name.out")"
    else
        sed 's/^/  | /' "$tmp/$name.out"
        fail "$name exited with status $rc"
    fi
}

# ---- 2. CMake consumer --------------------------------------------------------------------------
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [[ $from == fetchcontent ]]; then
    # FetchContent builds ndislock inside the consumer's build tree: that is where the shared
    # library must come from (ldd_check), and there is no prefix to find.
    step "CMake consumer: FetchContent_Declare(ndislock SOURCE_DIR $source_dir), FetchContent_MakeAvailable"
    prefix=$tmp/cmake-build/_deps
    how=(-DNDISLOCK_FETCH_SOURCE_DIR="$source_dir" -DFETCHCONTENT_FULLY_DISCONNECTED=ON)
else
    step "CMake consumer: find_package(ndislock CONFIG REQUIRED), CMAKE_PREFIX_PATH=$prefix"
    how=(-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
fi
if run_logged "$tmp/cmake-configure.log" cmake -S "$consumer_dir/cmake_consumer" -B "$tmp/cmake-build" \
    "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" "${how[@]}" \
    -DNDISLOCK_CHECKS_DIR="$checks_dir"; then
    found=$(sed -n 's/^ndislock_DIR:PATH=//p' "$tmp/cmake-build/CMakeCache.txt")
    if [[ $from == fetchcontent ]]; then
        if [[ -z $found ]] && grep -q '^FETCHCONTENT_SOURCE_DIR_NDISLOCK\|^ndislock_SOURCE_DIR' "$tmp/cmake-build/CMakeCache.txt"; then
            pass "ndislock came in through FetchContent, not find_package"
        else
            fail "the FetchContent consumer did not take ndislock from FetchContent (ndislock_DIR='${found}')"
        fi
    elif [[ $found == "$prefix"/* ]]; then
        pass "find_package found the installed package: ndislock_DIR=${found}"
    else
        fail "find_package found ndislock outside the install prefix: ndislock_DIR=${found}"
    fi
    for kind in shared static; do
        target=consumer_$kind
        if run_logged "$tmp/cmake-build-$kind.log" cmake --build "$tmp/cmake-build" --target "$target" --parallel 2; then
            pass "CMake consumer $target built (ndislock::ndislock$([[ $kind == static ]] && echo _static))"
            ldd_check "$tmp/cmake-build/$target" "$([[ $kind == shared ]] && echo dynamic || echo static)"
            run_consumer "cmake_$kind" "$tmp/cmake-build/$target"
        else
            fail "the CMake consumer $target does not build against the installed package"
        fi
    done
    # The WDK face: ndislock::wdk puts include/wdk on the path; <ndis.h> with a user header.
    if run_logged "$tmp/cmake-build-wdk.log" cmake --build "$tmp/cmake-build" --target consumer_wdk --parallel 2; then
        pass "CMake consumer consumer_wdk built (ndislock::wdk, #include <ndis.h>)"
        if "$tmp/cmake-build/consumer_wdk" >"$tmp/cmake_wdk.out" 2>&1; then
            pass "consumer_wdk: $(tail -n 1 "$tmp/cmake_wdk.out")"
        else
            sed 's/^/  | /' "$tmp/cmake_wdk.out"
            fail "consumer_wdk failed"
        fi
    else
        fail "the CMake consumer consumer_wdk does not build against ndislock::wdk"
    fi
else
    fail "the CMake consumer does not configure against the installed package"
fi

# ---- 3. pkg-config consumer ---------------------------------------------------------------------
if [[ $from == fetchcontent ]]; then
    step "pkg-config consumer: not with FetchContent (nothing is installed)"
elif step "pkg-config consumer: PKG_CONFIG_PATH=$pkgconfig_dir" && export PKG_CONFIG_PATH=$pkgconfig_dir &&
    ! command -v pkg-config >/dev/null 2>&1; then
    fail "pkg-config is not installed"
else
    pc_dir_seen=$(pkg-config --variable=pcfiledir ndislock)
    if [[ $pc_dir_seen -ef $pkgconfig_dir ]]; then pass "pkg-config reads the installed ndislock.pc"; else fail "pkg-config reads ndislock.pc from $pc_dir_seen"; fi
    cflags=$(pkg-config --cflags ndislock)
    libs=$(pkg-config --libs ndislock)
    static_libs=$(pkg-config --static --libs ndislock)
    printf '  --modversion: %s\n  --cflags:     %s\n  --libs:       %s\n  --static --libs: %s\n' \
        "$(pkg-config --modversion ndislock)" "$cflags" "$libs" "$static_libs"
    # The .pc may name the prefix through ${pcfiledir} ("<libdir>/pkgconfig/../.."): compare the
    # directories it names, resolved, with where the package was installed.
    # shellcheck disable=SC2086 # word splitting of pkg-config output is intended
    if names_dir -I "$prefix/include" $cflags; then
        pass "--cflags names the installed headers ($prefix/include)"
    else
        fail "--cflags does not name $prefix/include: the .pc's prefix is not where the package was installed (cmake --install --prefix)"
    fi
    # shellcheck disable=SC2086
    if names_dir -L "$libdir" $libs; then
        pass "--libs names the installed library directory ($libdir)"
    else
        fail "--libs does not name -L$libdir"
    fi

    strict=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
    # Dynamic: exactly what the pkg-config documentation tells a user to write.
    # shellcheck disable=SC2086 # word splitting of pkg-config output is intended
    if run_logged "$tmp/pc-dynamic.log" "$cc" "${strict[@]}" $cflags -I"$checks_dir" "$main_c" \
        "$checks_dir/contract_checks.c" $libs -o "$tmp/pkgconfig_dynamic"; then
        pass "pkg-config dynamic consumer built"
        ldd_check "$tmp/pkgconfig_dynamic" dynamic "$libdir"
        run_consumer pkgconfig_dynamic "$tmp/pkgconfig_dynamic" "$libdir"
    else
        fail "the pkg-config dynamic consumer does not build"
    fi

    # Static: the README's command, `cc $(pkg-config --cflags ndislock-static) app.c -o app
    # $(pkg-config --libs ndislock-static)`. The module names libndislock.a by path, so the .so
    # beside it cannot be taken instead; the program must run with no LD_LIBRARY_PATH although
    # the prefix is outside the loader's path, and readelf must show no libndislock NEEDED.
    static_cflags=$(pkg-config --cflags ndislock-static)
    static_libs=$(pkg-config --libs ndislock-static)
    printf '  ndislock-static --cflags: %s\n  ndislock-static --libs:   %s\n' "$static_cflags" "$static_libs"
    # shellcheck disable=SC2086
    if run_logged "$tmp/pc-static.log" "$cc" "${strict[@]}" $static_cflags -I"$checks_dir" "$main_c" \
        "$checks_dir/contract_checks.c" -o "$tmp/pkgconfig_static" $static_libs; then
        pass "pkg-config static consumer built: $static_libs"
        ldd_check "$tmp/pkgconfig_static" static
        if readelf -d "$tmp/pkgconfig_static" | grep -q 'NEEDED.*libndislock'; then
            fail "pkgconfig_static records libndislock as NEEDED: $(readelf -d "$tmp/pkgconfig_static" | grep NEEDED | tr -s ' ')"
        else
            pass "pkgconfig_static needs no libndislock (readelf -d)"
        fi
        run_consumer pkgconfig_static "$tmp/pkgconfig_static"
    else
        fail "the pkg-config static consumer does not build"
    fi
    # --static on the shared module must not be mistaken for static linking: it still names
    # -lndislock, which the linker resolves to the .so. Kept as a check of what the README says.
    if [[ " $(pkg-config --static --libs ndislock) " == *" -lndislock "* ]]; then
        pass "pkg-config --static --libs ndislock still names -lndislock (the README points to ndislock-static)"
    else
        fail "pkg-config --static --libs ndislock changed: revisit the README's static command"
    fi

    # The WDK face, statically: the README's `$(pkg-config --libs ndislock-static)` with
    # `$(pkg-config --cflags ndislock-wdk)`.
    # shellcheck disable=SC2086
    if run_logged "$tmp/pc-wdk-static.log" "$cc" "${strict[@]}" $(pkg-config --cflags ndislock-wdk) \
        -I"$consumer_dir/cmake_consumer" '-DNDISLOCK_WDK_USER_HEADER="consumer_types.h"' \
        "$consumer_dir/cmake_consumer/wdk_main.c" -o "$tmp/pkgconfig_wdk_static" $static_libs; then
        pass "pkg-config ndislock-wdk consumer built statically"
        ldd_check "$tmp/pkgconfig_wdk_static" static
        if "$tmp/pkgconfig_wdk_static" >"$tmp/pkgconfig_wdk_static.out" 2>&1; then
            pass "pkgconfig_wdk_static: $(tail -n 1 "$tmp/pkgconfig_wdk_static.out")"
        else
            sed 's/^/  | /' "$tmp/pkgconfig_wdk_static.out"
            fail "pkgconfig_wdk_static failed"
        fi
    else
        fail "the pkg-config ndislock-wdk consumer does not build statically"
    fi

    # The WDK face through pkg-config: Requires: ndislock brings the library, Cflags include/wdk.
    wdk_cflags=$(pkg-config --cflags ndislock-wdk)
    wdk_libs=$(pkg-config --libs ndislock-wdk)
    printf '  ndislock-wdk --cflags: %s\n  ndislock-wdk --libs:   %s\n' "$wdk_cflags" "$wdk_libs"
    # shellcheck disable=SC2086
    if run_logged "$tmp/pc-wdk.log" "$cc" "${strict[@]}" $wdk_cflags -I"$consumer_dir/cmake_consumer" \
        '-DNDISLOCK_WDK_USER_HEADER="consumer_types.h"' "$consumer_dir/cmake_consumer/wdk_main.c" $wdk_libs \
        -o "$tmp/pkgconfig_wdk"; then
        pass "pkg-config ndislock-wdk consumer built (#include <ndis.h>)"
        if LD_LIBRARY_PATH=$libdir "$tmp/pkgconfig_wdk" >"$tmp/pkgconfig_wdk.out" 2>&1; then
            pass "pkgconfig_wdk: $(tail -n 1 "$tmp/pkgconfig_wdk.out")"
        else
            sed 's/^/  | /' "$tmp/pkgconfig_wdk.out"
            fail "pkgconfig_wdk failed"
        fi
    else
        fail "the pkg-config ndislock-wdk consumer does not build"
    fi
fi

# ---- 4. docs/install.md's commands, word for word -------------------------------------------
# Its ```sh blocks after "Link with": the shared one (a cc line, then `LD_LIBRARY_PATH=<prefix>/lib
# ./app`), the static one (a cc line; the program must then run with nothing on the loader's
# path). Each block runs in a directory of its own holding app.c (the consumer's checks in one
# file), under bash, with `cc` on PATH being the compiler given and PKG_CONFIG_PATH the package's.
docs_blocks() { # prints each ```sh block's lines of install.md, blocks separated by a line "--"
    awk '/^Link with/ {on = 1} on && /^```sh$/ {inblock = 1; next}
         inblock && /^```$/ {inblock = 0; print "--"; next} inblock {print}' "$source_dir/docs/install.md"
}
# run_doc_block NAME KIND LINE...: KIND shared or static.
run_doc_block() {
    local name=$1 kind=$2 line dir=$tmp/docs-$1 rc
    shift 2
    mkdir -p "$dir"
    cp "$main_c" "$dir/main.c"
    cp "$checks_dir/contract_checks.c" "$checks_dir/contract_checks.h" "$dir/"
    printf '#include "main.c"\n#include "contract_checks.c"\n' >"$dir/app.c"
    for line in "$@"; do
        line=${line//<prefix>/$prefix}
        step "docs/install.md ($kind), as written: $line"
        rc=0
        (cd "$dir" && PATH=$tmp/bin:$PATH bash -c "$line") >"$dir/out.log" 2>&1 || rc=$?
        if [[ $line == *./app* ]]; then
            if [[ $rc -eq 0 ]] && tail -n 1 "$dir/out.log" | grep -Eq '^[1-9][0-9]* passed, 0 failed$'; then
                pass "docs $name: $(tail -n 1 "$dir/out.log")"
            else
                sed 's/^/  | /' "$dir/out.log"
                fail "docs $name: ./app exited with status $rc"
            fi
        elif [[ $rc -eq 0 ]]; then
            pass "docs $name: built"
        else
            sed 's/^/  | /' "$dir/out.log"
            fail "docs $name: the documented command failed (exit $rc)"
            return
        fi
    done
    if [[ $kind == static ]]; then
        ldd_check "$dir/app" static
        # The documented promise: no libndislock at run time, with PREFIX off the loader's path.
        run_doc_block_run=$( (cd "$dir" && ./app) 2>&1) && rc=0 || rc=$?
        if [[ $rc -eq 0 ]] && tail -n 1 <<<"$run_doc_block_run" | grep -Eq '^[1-9][0-9]* passed, 0 failed$'; then
            pass "docs $name: ./app runs with no LD_LIBRARY_PATH: $(tail -n 1 <<<"$run_doc_block_run")"
        else
            sed 's/^/  | /' <<<"$run_doc_block_run"
            fail "docs $name: ./app does not run with no LD_LIBRARY_PATH (exit $rc)"
        fi
    else
        ldd_check "$dir/app" dynamic "$prefix/lib"
    fi
}
if [[ $from != fetchcontent ]] && command -v pkg-config >/dev/null 2>&1; then
    mkdir -p "$tmp/bin"
    ln -sf "$(command -v "$cc")" "$tmp/bin/cc"
    mapfile -t doc_lines < <(docs_blocks)
    blocks=()
    current=()
    for line in "${doc_lines[@]}"; do
        if [[ $line == -- ]]; then
            blocks+=("$(printf '%s\n' "${current[@]}")")
            current=()
        else
            current+=("$line")
        fi
    done
    if [[ ${#blocks[@]} -ne 2 ]]; then
        fail "docs/install.md: expected two \`\`\`sh blocks after 'Link with' (shared, static), found ${#blocks[@]}"
    else
        mapfile -t shared_lines <<<"${blocks[0]%$'\n'}"
        mapfile -t static_lines <<<"${blocks[1]%$'\n'}"
        if [[ ${shared_lines[0]} != *"--libs ndislock)"* || ${static_lines[0]} != *"--libs ndislock-static)"* ]]; then
            fail "docs/install.md: the blocks are no longer 'shared' then 'static': ${shared_lines[0]} / ${static_lines[0]}"
        else
            run_doc_block shared shared "${shared_lines[@]}"
            run_doc_block static static "${static_lines[@]}"
        fi
    fi
fi

printf '\n'
if [[ $failures -eq 0 ]]; then
    echo "consumers of ndislock (--from $from): all consumers built and passed"
    exit 0
fi
echo "consumers of ndislock (--from $from): $failures failure(s)"
exit 1
