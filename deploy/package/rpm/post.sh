# honeyward: create the system user and the state directory; never start decoys on
# install. $1 is 1 on install, 2 or more on upgrade.
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers /usr/lib/sysusers.d/honeyward.conf
elif ! getent passwd honeyward >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/honeyward --no-create-home --shell /usr/sbin/nologin honeyward
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/honeyward.conf
else
    install -d -m 0700 -o honeyward -g honeyward /var/lib/honeyward
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 2 ]; then
        systemctl try-restart honeyward.service >/dev/null 2>&1 || :
    fi
fi
if [ "$1" -eq 1 ]; then
    echo "honeyward: installed, not started. Its decoys listen on 127.0.0.1 until you edit"
    echo "honeyward: /etc/honeyward/honeyward.yaml; check it with 'honeyward validate -c /etc/honeyward/honeyward.yaml',"
    echo "honeyward: then 'systemctl enable --now honeyward'."
fi
