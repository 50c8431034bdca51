#!/bin/sh
# make demo: show the freshly built tend.
set -eu
tend=${1:-./tend}
echo "== $tend --version"
"$tend" --version
echo
echo "== $tend --help"
"$tend" --help
