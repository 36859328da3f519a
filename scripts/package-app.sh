#!/usr/bin/env bash
# Builds the installable Splunk app from splunk-app/:
#   target/splunk-app/<id>-<version>.tgz and an identical .spl copy.
#
#   ./scripts/package-app.sh        # prints the .tgz path on its last line
#
# The archive holds one top-level directory named after the app id ([package] id in
# default/app.conf), no hidden files, directories 0755 and files 0644, owner root, and sorted
# entries with a fixed mtime so two builds are byte-identical. The version rule: [launcher]
# version and [id] version in app.conf must both equal the workspace version in Cargo.toml
# ([workspace.package] version); the script refuses to build otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
APP_DIR=splunk-app
CONF=$APP_DIR/default/app.conf

# The value of KEY in [STANZA] of an ini-style .conf file.
conf_value() {
  awk -v stanza="[$2]" -v key="$3" '
    /^\[/ { in_stanza = ($0 == stanza); next }
    in_stanza && $0 ~ "^" key "[ \t]*=" { sub("^[^=]*=[ \t]*", ""); sub("[ \t]+$", ""); print; exit }
  ' "$1"
}

id=$(conf_value "$CONF" package id)
launcher_version=$(conf_value "$CONF" launcher version)
id_version=$(conf_value "$CONF" id version)
workspace_version=$(awk '/^\[workspace.package\]/{p=1;next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/,"");sub("version=","");print;exit}' Cargo.toml)

if ! [[ "$id" =~ ^[A-Za-z0-9_]+$ ]]; then
  echo "package-app: [package] id '$id' must be letters, digits and underscores" >&2
  exit 1
fi
if [ "$launcher_version" != "$workspace_version" ] || [ "$id_version" != "$workspace_version" ]; then
  echo "package-app: app.conf versions ([launcher] $launcher_version, [id] $id_version) differ from the workspace version $workspace_version" >&2
  exit 1
fi

out=target/splunk-app
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/$id"
# Copy without hidden files (no .git*, .DS_Store, editor swap files) and without local/.
(cd "$APP_DIR" && find . -path ./local -prune -o \( -name '.*' -a ! -name . \) -prune -o -type f -print) |
  while read -r file; do
    mkdir -p "$stage/$id/$(dirname "$file")"
    cp "$APP_DIR/$file" "$stage/$id/$file"
  done
find "$stage/$id" -type d -exec chmod 0755 {} +
find "$stage/$id" -type f -exec chmod 0644 {} +

tgz="$out/$id-$workspace_version.tgz"
(cd "$stage" && find "$id" -print0 | LC_ALL=C sort -z |
  tar --null --no-recursion -T - --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00Z' -cf -) |
  gzip -n -9 > "$tgz"
cp "$tgz" "$out/$id-$workspace_version.spl"
echo "package-app: $(tar -tzf "$tgz" | wc -l) entries, $(wc -c < "$tgz") bytes"
echo "$tgz"
