#!/bin/sh
# @NAME@: written by `tend startup systemv`; `tend unstartup systemv` removes it.
# SysV init has no supervisor: start runs `tend resurrect`, which starts tend's daemon in
# the background (it keeps its pid in the home); stop stops the apps and the daemon and
# leaves the saved list as it is.
### BEGIN INIT INFO
# Provides:          @NAME@
# Required-Start:    $local_fs $remote_fs $network
# Required-Stop:     $local_fs $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: tend process manager
# Description:       the apps of @USER@, saved by tend save, under tend
### END INIT INFO

TEND=@TEND@
export @ENV_PATH@
export @ENV_HOME@
USER=@USER@

as_user() {
	if [ "$USER" = root ]; then
		"$TEND" "$@"
	else
		su -s /bin/sh "$USER" -c '"$0" "$@"' -- "$TEND" "$@"
	fi
}

running() {
	pid=$(cat "$TEND_HOME/tend.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

case "$1" in
start) as_user resurrect ;;
stop) as_user kill ;;
restart) as_user kill; as_user resurrect ;;
reload|force-reload) as_user reload all ;;
status)
	if running; then
		echo "tend is running (pid $pid)"
	else
		echo "tend is not running"
		exit 3
	fi ;;
*)
	echo "usage: $0 {start|stop|restart|reload|force-reload|status}" >&2
	exit 2 ;;
esac
