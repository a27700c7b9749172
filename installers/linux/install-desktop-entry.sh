#!/bin/sh
# Put FaceForge in this user's application menu: a .desktop file pointing at this folder, and the icon.
# Run it again after moving the folder; `./install-desktop-entry.sh --remove` takes both away.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$apps/faceforge.desktop" "$icons/256x256/apps/faceforge.png" "$icons/scalable/apps/faceforge.svg"
    echo "FaceForge removed from the menu (this folder is left as it is)."
    exit 0
fi
mkdir -p "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
cp "$here/faceforge.png" "$icons/256x256/apps/faceforge.png"
cp "$here/faceforge.svg" "$icons/scalable/apps/faceforge.svg"
# the folder's absolute path, quoted for the Exec key (spaces allowed)
sed -e "s|^Exec=.*|Exec=\"$here/faceforge\" %f|" -e "s|^TryExec=.*|TryExec=$here/faceforge|" \
    "$here/faceforge.desktop" > "$apps/faceforge.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
echo "FaceForge is in the application menu (it starts $here/faceforge)."
