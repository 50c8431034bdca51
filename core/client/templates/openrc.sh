#!/sbin/openrc-run
# @NAME@: written by `tend startup openrc`; `tend unstartup openrc` removes it.
# supervise-daemon keeps tend in the foreground; tend resurrects the apps saved by
# `tend save`. Stopping the service stops the apps and leaves the saved list as it is.
name="tend"
description="tend process manager (the apps of @USER@)"
supervisor=supervise-daemon
command=@TEND@
command_args="resurrect --no-daemon"
command_user=@USER@
retry="TERM/120/KILL/5"
export @ENV_PATH@
export @ENV_HOME@
extra_started_commands="reload"

depend() {
	@DEPEND@
	after firewall
}

reload() {
	ebegin "Reloading the apps of $RC_SVCNAME"
	"$command" reload all
	eend $?
}
