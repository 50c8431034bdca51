#!/bin/sh
# make demo: start the examples under tend and show them.
set -eu
shown=${1:-./tend}
tend=$(cd "$(dirname "$shown")" && pwd)/$(basename "$shown")
cd "$(dirname "$0")"
"$tend" --version
# A previous demo's apps go first, so this can run again.
"$tend" delete demo -s 2>/dev/null || true
port=${PORT:-8080}
PORT=$port "$tend" start http.js -n demo-http --namespace demo -s
"$tend" start worker.py -n demo-worker --namespace demo -s
"$tend" start ticker.sh -n demo-ticker --namespace demo -s
"$tend" list
home=${TEND_HOME:-$HOME/.tend}
cat <<TXT

Three apps run under tend (namespace "demo"): an HTTP server in node on port $port,
a python worker and a shell loop. Try:

  curl localhost:$port                      the node app answers
  $shown describe demo-http                 everything about one app
  tail $home/logs/demo-worker-out.log
  $shown monit                              the live dashboard (q quits)
  $shown events demo &                      print what happens to them, live
  $shown web && curl -H "Authorization: Bearer \$($shown web --token)" localhost:9615/metrics
  $shown restart demo                       restart the namespace
  $shown stop demo; $shown delete demo     stop, then forget them
  $shown kill                               stop every app and the daemon
TXT
