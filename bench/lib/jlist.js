// bench/lib/jlist.js MODE < jlist-output
//   count  prints "ONLINE TOTAL": apps whose pm2_env.status is "online", and all apps
//   pids   prints the pid of every app that has one (> 0), one per line
// Exits 1 if stdin is not a JSON array (after skipping any non-JSON lines before it).
'use strict';
const mode = process.argv[2] || 'count';
let s = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { s += d; });
process.stdin.on('end', () => {
	let list = null;
	try { list = JSON.parse(s); } catch (e) {
		// Tolerate banners or warnings printed before the JSON: parse from the first
		// line that starts with '['.
		const i = s.search(/^\[/m);
		if (i >= 0) { try { list = JSON.parse(s.slice(i)); } catch (e2) { list = null; } }
	}
	if (!Array.isArray(list)) {
		process.stderr.write('jlist.js: not a JSON array: ' + JSON.stringify(s.slice(0, 200)) + '\n');
		process.exit(1);
	}
	if (mode === 'pids') {
		const out = list.map((p) => p && p.pid).filter((p) => Number.isInteger(p) && p > 0);
		process.stdout.write(out.length ? out.join('\n') + '\n' : '');
	} else {
		const online = list.filter((p) => p && p.pm2_env && p.pm2_env.status === 'online').length;
		process.stdout.write(online + ' ' + list.length + '\n');
	}
});
