# sshd_host DIR ADDR PORT AUTHORIZED_KEYS BIN: a test host's sshd configuration in
# DIR/sshd_config (its host key made in DIR, its HOME DIR/home, BIN first on its PATH),
# for `sshd -D -e -f DIR/sshd_config` as root. Shared by test/t/deploy.sh and
# bench/deploy.sh.
sshd_host() {
	mkdir -p "$1/home"
	ssh-keygen -q -t ed25519 -N '' -f "$1/hostkey" || return 1
	printf '%s\n' "ListenAddress $2:$3" "HostKey $1/hostkey" "AuthorizedKeysFile $4" \
		"PidFile $1/sshd.pid" "StrictModes no" "UsePAM no" "PasswordAuthentication no" \
		"KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" "MaxStartups 100" \
		"SetEnv PATH=$5:/usr/local/bin:/usr/bin:/bin HOME=$1/home" "LogLevel ERROR" >"$1/sshd_config"
}
