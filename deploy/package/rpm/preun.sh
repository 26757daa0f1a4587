# honeyward: stop the service when the package is erased ($1 is 0), not on upgrade.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl stop honeyward.service >/dev/null 2>&1 || :
fi
