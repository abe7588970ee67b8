#!/usr/bin/env bash
# Refresh web/vendor/ from the npm registry: the page's third-party modules, pinned, verified
# against the registry's sha512 integrity, each with its licence. Nothing is fetched at run time
# (no CDN); the files are committed. To upgrade: change a version + integrity below, run this,
# run the browser tests, commit.
#   preact  (MIT)        the UI library: 4 KB virtual DOM + hooks, no build step
#   htm     (Apache-2.0) JSX-like tagged templates for preact, so the page needs no compiler
#   uplot   (MIT)        the report chart: small, fast, canvas-based
# Changes made to the upstream files (and nothing else): hooks' bare `from "preact"` import is
# pointed at the sibling file (browsers resolve no bare specifiers without an import map, and an
# inline import map would need a CSP exception), and sourceMappingURL comments are dropped (the
# maps are not vendored).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  "preact 11.2.0 sha512-/HfHI/7N84e6GrWBJ3J280z3mLaRJiDcSvj/A+y/4AbLnND/1UlGHe1sR6oYuTGwId0nP7dqDU9OnLxMPZ7xBg=="
  "htm 3.1.1 sha512-983Vyg8NwUE7JkZ6NmOqpCZ+sh1bKv2iYTlUkzlWmA5JD2acKoxd4KVxbMmxX/85mtfdnDmTFoNKcg5DGAvxNQ=="
  "uplot 1.6.32 sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
)
# file in the package -> file under web/vendor/<package>/
declare -A FILES=(
  [preact]="dist/preact.mjs:preact.js hooks/dist/hooks.mjs:hooks.js LICENSE:LICENSE"
  [htm]="dist/htm.module.js:htm.js LICENSE:LICENSE"
  [uplot]="dist/uPlot.esm.js:uPlot.js dist/uPlot.min.css:uPlot.min.css LICENSE:LICENSE"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in "${PACKAGES[@]}"; do
  read -r name version integrity <<<"$entry"
  tgz="$work/$name.tgz"
  curl -fsS --retry 3 -o "$tgz" "https://registry.npmjs.org/$name/-/$name-$version.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "vendor-web: $name@$version does not match its pinned integrity ($got)" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$tgz" -C "$work/$name"
  dest="web/vendor/$name"
  rm -rf "$dest"
  mkdir -p "$dest"
  for pair in ${FILES[$name]}; do
    cp "$work/$name/package/${pair%%:*}" "$dest/${pair#*:}"
  done
  for f in "$dest"/*.js; do
    sed -i -e '/^\/\/# sourceMappingURL=/d' -e 's/from"preact"/from".\/preact.js"/g' "$f"
  done
  echo "$name $version" >"$dest/VERSION"
  echo "vendor-web: $name@$version -> $dest" >&2
done
