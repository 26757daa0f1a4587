# honeyward: RPM has no purge; erasing keeps /var/lib/honeyward and says so.
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 0 ] && [ -e /var/lib/honeyward ]; then
    echo "honeyward: /var/lib/honeyward is kept (event store, host keys, token digest key); delete it yourself when it is no longer needed."
fi
