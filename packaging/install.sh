#!/usr/bin/env bash
# Install the built bundle for the current user: the app folder, a `workbench` command,
# the applications-menu entry and its icon. Usage: packaging/install.sh [--uninstall]
# (build first with packaging/build, or unpack workbench-linux-x86_64.tar.gz next to this script).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
app="$data/workbench-app"
bin="$HOME/.local/bin"
if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app" "$bin/workbench" "$data/applications/workbench.desktop" \
        "$data/icons/hicolor/scalable/apps/workbench.svg"
    echo "workbench removed (your runs and settings in $data/workbench and ~/.config/workbench are kept)"
    exit 0
fi
source_dir="$here/dist/workbench"
[ -x "$source_dir/workbench" ] || source_dir="$here/workbench"
if [ ! -x "$source_dir/workbench" ]; then
    echo "no bundle found: run packaging/build first" >&2
    exit 2
fi
mkdir -p "$app" "$bin" "$data/applications" "$data/icons/hicolor/scalable/apps"
rm -rf "$app/workbench"
cp -a "$source_dir" "$app/workbench"
ln -sf "$app/workbench/workbench" "$bin/workbench"
cp "$source_dir/_internal/resources/icons/workbench.svg" "$data/icons/hicolor/scalable/apps/workbench.svg"
sed "s|^Exec=.*|Exec=$app/workbench/workbench|" "$here/workbench.desktop" > "$data/applications/workbench.desktop"
command -v update-desktop-database > /dev/null && update-desktop-database "$data/applications" || true
echo "installed: $app/workbench; 'workbench' in $bin; menu entry $data/applications/workbench.desktop"
