#!/bin/sh /etc/rc.common
# @NAME@: written by `tend startup procd`; `tend unstartup procd` removes it.
# procd keeps tend in the foreground; tend resurrects the apps saved by `tend save`.
# Stopping the service stops the apps and leaves the saved list as it is.
START=95
STOP=10
USE_PROCD=1

start_service() {
	procd_open_instance
	procd_set_param command @TEND@ resurrect --no-daemon
	procd_set_param env @ENV_PATH@ @ENV_HOME@
	@PROCD_USER@
	procd_set_param respawn
	procd_set_param term_timeout 120
	procd_set_param stdout 1
	procd_set_param stderr 1
	procd_close_instance
}

reload_service() {
	@TEND@ reload all
}
