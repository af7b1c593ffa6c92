#!/bin/sh
# fetch_sarif_schema.sh DEST: puts the official SARIF 2.1.0 JSON schema at DEST unless it is
# already there. The schema ships in the npm package of Microsoft's SARIF multitool
# (package/sarif-2.1.0.json); the package is fetched with `npm pack` into a temporary directory
# (about 43 MB, once per build tree) and only the schema is kept.
#
# Exits non-zero with a message saying what is missing (npm, the network, the file in the
# tarball): the SARIF validation test must fail, never pass silently, when it cannot validate.
set -eu

dest=${1:?usage: fetch_sarif_schema.sh DEST}
package=@microsoft/sarif-multitool-linux@5.7.0

if [ -s "$dest" ]; then
    echo "fetch_sarif_schema: $dest already present"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_sarif_schema: FAILED: npm is not installed; it is needed once to fetch the SARIF 2.1.0" >&2
    echo "  schema ($package, package/sarif-2.1.0.json). Install it (Debian: apt-get install npm)," >&2
    echo "  or put the schema at $dest by hand." >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ndislock-sarif-schema.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if ! npm pack --silent "$package" >pack.log 2>&1; then
    echo "fetch_sarif_schema: FAILED: 'npm pack $package' failed (no network or no registry?):" >&2
    cat pack.log >&2
    exit 1
fi
tarball=$(ls ./*.tgz 2>/dev/null | head -n 1)
if [ -z "$tarball" ]; then
    echo "fetch_sarif_schema: FAILED: npm pack produced no tarball" >&2
    exit 1
fi
if ! tar xzf "$tarball" package/sarif-2.1.0.json; then
    echo "fetch_sarif_schema: FAILED: $tarball has no package/sarif-2.1.0.json" >&2
    exit 1
fi
mkdir -p "$(dirname "$dest")"
# Write under a temporary name, then rename: a parallel or interrupted run never leaves half a file.
cp package/sarif-2.1.0.json "$dest.part.$$"
mv "$dest.part.$$" "$dest"
echo "fetch_sarif_schema: $dest written from $package"
