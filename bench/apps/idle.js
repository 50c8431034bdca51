// bench/apps/idle.js: an idle node app. Keeps the event loop alive with a timer and
// exits cleanly (code 0) on SIGINT or SIGTERM, so `delete` never needs a SIGKILL.
'use strict';
const t = setInterval(() => {}, 60 * 1000);
function bye() { clearInterval(t); process.exit(0); }
process.on('SIGINT', bye);
process.on('SIGTERM', bye);
