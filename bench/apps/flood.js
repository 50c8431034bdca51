// bench/apps/flood.js [MIB [once|forever [PROGRESS_MIB [BATCH]]]]: a log flood for
// bench/logs.sh, the same file for tend and PM2.
//
// Writes 100-byte lines ("flood " + 93 "x" + "\n") to stdout as fast as it can, BATCH
// lines (100) per write(), honouring backpressure: it writes until write() returns false,
// then waits for 'drain' (on Linux a pipe stdout is synchronous, so write() mostly just
// blocks). It yields to the event loop every 64 writes, so SIGINT/SIGTERM stop it cleanly.
//   once     MIB MiB of lines (floor(MIB * 1048576 / 100) of them), then the line
//            "flood done" on stdout and on stderr, then idles until stopped.
//   forever  lines without end (MIB is ignored).
// PROGRESS_MIB > 0: after each PROGRESS_MIB MiB, "flood progress N MiB" on stderr.
// Exits 0 on SIGINT or SIGTERM.
'use strict';
const LINE = 100;
const mib = Number(process.argv[2] || 100);
const mode = process.argv[3] || 'once';
const progressMib = Number(process.argv[4] || 0);
const batch = Math.max(1, Number(process.argv[5] || 100));
if (!(mib >= 0) || (mode !== 'once' && mode !== 'forever')) {
	process.stderr.write('usage: flood.js [MIB [once|forever [PROGRESS_MIB [BATCH]]]]\n');
	process.exit(2);
}

const line = 'flood ' + 'x'.repeat(LINE - 7) + '\n';
const block = Buffer.from(line.repeat(batch));   // never modified, so safe to write again
const total = mode === 'forever' ? Infinity : Math.floor(mib * 1048576 / LINE);
const perProgress = progressMib > 0 ? Math.floor(progressMib * 1048576 / LINE) : 0;
let n = 0;          // lines written
let nextProgress = perProgress;
let idle = null;

function finish() {
	process.stdout.write('flood done\n');
	process.stderr.write('flood done\n');
	idle = setInterval(() => {}, 60 * 1000);
}

function pump() {
	for (let writes = 0; n < total; writes++) {
		if (writes === 64) { setImmediate(pump); return; }
		const left = total - n;
		const ok = left >= batch ? process.stdout.write(block)
			: process.stdout.write(block.subarray(0, left * LINE));
		n += Math.min(batch, left);
		while (perProgress && n >= nextProgress) {
			process.stderr.write('flood progress ' + (nextProgress * LINE / 1048576).toFixed(0) + ' MiB\n');
			nextProgress += perProgress;
		}
		if (!ok) { process.stdout.once('drain', pump); return; }
	}
	finish();
}

function bye() { if (idle) clearInterval(idle); process.exit(0); }
process.on('SIGINT', bye);
process.on('SIGTERM', bye);
process.stdout.on('error', bye);   // EPIPE: the reader is gone
pump();
