#!/usr/bin/env bash
# Builds the FerretDB binary the tests use (docs/operations.md, "Tests and CI") into .cache/ferretdb/<pin hash>/ferretdb and
# prints its path. The pin is tools/ferretdb/go.mod + go.sum; the binary is rebuilt only when they change.
# Safe to run concurrently (test workers, CI): builds are serialised with flock and re-checked under it.
#
# Why not plain `go build github.com/FerretDB/FerretDB/cmd/ferretdb`: FerretDB embeds build/version/version.txt,
# which its published module lacks, and the binary panics at start without it. So the pinned module
# source is copied out of the module cache, version.txt is added, and the build uses a `replace` to the copy.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tool_dir="$root/tools/ferretdb"
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

command -v go >/dev/null || { echo "build-ferretdb: Go is not installed (looked in PATH and /usr/local/go/bin)" >&2; exit 3; }

hash="$(cat "$tool_dir/go.mod" "$tool_dir/go.sum" | sha256sum | cut -c1-16)"
out_dir="$root/.cache/ferretdb/$hash"
bin="$out_dir/ferretdb"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

mkdir -p "$root/.cache/ferretdb"
exec 9>"$root/.cache/ferretdb/build.lock"
flock 9
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

# Under the lock no other build runs, so leftovers of an interrupted one can go.
for stale in "$root/.cache/ferretdb"/build.*; do
  if [[ -d "$stale" ]]; then chmod -R u+w "$stale" && rm -rf "$stale"; fi
done

started=$SECONDS
version="$(cd "$tool_dir" && go list -m -f '{{.Version}}' github.com/FerretDB/FerretDB)"
src="$(cd "$tool_dir" && go mod download -json github.com/FerretDB/FerretDB >/dev/null && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)"
work="$(mktemp -d "$root/.cache/ferretdb/build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

cp "$tool_dir/go.mod" "$tool_dir/go.sum" "$work/"
cp -R "$src" "$work/ferretdb-src"
chmod -R u+w "$work/ferretdb-src"
echo "$version" >"$work/ferretdb-src/build/version/version.txt"
(cd "$work" && go mod edit -replace "github.com/FerretDB/FerretDB=./ferretdb-src")

echo "build-ferretdb: building FerretDB $version (pin $hash); this takes a few minutes the first time…" >&2
mkdir -p "$out_dir"
(cd "$work" && go build -trimpath -o "$out_dir/ferretdb.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb)
mv "$out_dir/ferretdb.tmp" "$bin"
echo "build-ferretdb: built in $((SECONDS - started)) s" >&2
echo "$bin"
