#!/usr/bin/env bash
# Builds the installable Splunk packages from splunk-app/: the add-on splunk-app/TA-icsfwd and
# the app splunk-app/icsfwd_ot_alerts, each as target/splunk-app/<id>-<version>.tgz and an
# identical .spl copy.
#
#   ./scripts/package-app.sh              # both; prints one .tgz path per line at the end
#   ./scripts/package-app.sh TA-icsfwd    # one, by directory name
#
# Each archive holds one top-level directory named after the package id ([package] id in
# default/app.conf, which must equal the directory name), no hidden files and no local/,
# directories 0755 and files 0644, owner root, and sorted entries with a fixed mtime so two
# builds are byte-identical. The version rule: [launcher] version and [id] version in app.conf
# must both equal the workspace version in Cargo.toml ([workspace.package] version); the script
# refuses to build otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

# The value of KEY in [STANZA] of an ini-style .conf file.
conf_value() {
  awk -v stanza="[$2]" -v key="$3" '
    /^\[/ { in_stanza = ($0 == stanza); next }
    in_stanza && $0 ~ "^" key "[ \t]*=" { sub("^[^=]*=[ \t]*", ""); sub("[ \t]+$", ""); print; exit }
  ' "$1"
}

workspace_version=$(awk '/^\[workspace.package\]/{p=1;next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/,"");sub("version=","");print;exit}' Cargo.toml)
out=target/splunk-app
mkdir -p "$out"

# Packages splunk-app/$1 and prints the .tgz path.
package() {
  local app_dir=splunk-app/$1
  local conf=$app_dir/default/app.conf
  local id launcher_version id_version stage tgz
  id=$(conf_value "$conf" package id)
  launcher_version=$(conf_value "$conf" launcher version)
  id_version=$(conf_value "$conf" id version)
  # AppInspect's rule for a package id: letters, digits, "_", "." and "-", not starting with a
  # digit, not ending with "." (check_for_valid_package_id); it must name the directory.
  if ! [[ "$id" =~ ^[A-Za-z_.-][A-Za-z0-9_.-]*$ ]] || [[ "$id" == *. ]]; then
    echo "package-app: $conf: [package] id '$id' must be letters, digits, '_', '.' and '-'" >&2
    return 1
  fi
  if [ "$id" != "$1" ]; then
    echo "package-app: $conf: [package] id '$id' differs from the directory name '$1'" >&2
    return 1
  fi
  if [ "$launcher_version" != "$workspace_version" ] || [ "$id_version" != "$workspace_version" ]; then
    echo "package-app: $conf: versions ([launcher] $launcher_version, [id] $id_version) differ from the workspace version $workspace_version" >&2
    return 1
  fi
  stage=$out/stage-$id
  rm -rf "$stage"
  mkdir -p "$stage/$id"
  # Copy without hidden files (no .git*, .DS_Store, editor swap files) and without local/.
  (cd "$app_dir" && find . -path ./local -prune -o \( -name '.*' -a ! -name . \) -prune -o -type f -print) |
    while read -r file; do
      mkdir -p "$stage/$id/$(dirname "$file")"
      cp "$app_dir/$file" "$stage/$id/$file"
    done
  find "$stage/$id" -type d -exec chmod 0755 {} +
  find "$stage/$id" -type f -exec chmod 0644 {} +
  tgz="$out/$id-$workspace_version.tgz"
  (cd "$stage" && find "$id" -print0 | LC_ALL=C sort -z |
    tar --null --no-recursion -T - --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00Z' -cf -) |
    gzip -n -9 > "$tgz"
  cp "$tgz" "$out/$id-$workspace_version.spl"
  echo "package-app: $id: $(tar -tzf "$tgz" | wc -l) entries, $(wc -c < "$tgz") bytes" >&2
  echo "$tgz"
}

if [ "$#" -eq 0 ]; then
  set -- TA-icsfwd icsfwd_ot_alerts
fi
for app in "$@"; do
  package "$app"
done
