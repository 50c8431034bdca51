// bench/lib/keydiff.js PM2_JLIST TEND_JLIST ALLOW_FILE
// Compares two jlist outputs app by app (matched by name and pm_id order): every key
// path (arrays collapse to "[]") with the type of its value. Prints one line per
// difference, "only-pm2 PATH TYPE", "only-tend PATH TYPE" or "type PATH PM2TYPE TEND",
// each prefixed by "ok" when ALLOW_FILE explains it (a line "PREFIX<TAB>why": PATH
// starts with PREFIX) or "DIFF" when nothing does. Exits 1 if any DIFF line was printed.
// Keys only in tend's output are tend's extras: reported, never a DIFF. The app's
// name in a path reads <name>.
'use strict';
const fs = require('fs');

function parse(file) {
	const s = fs.readFileSync(file, 'utf8');
	const i = s.search(/^\[/m);   // PM2 may print banners before the JSON
	return JSON.parse(i > 0 ? s.slice(i) : s);
}

function typeOf(v) {
	if (v === null) return 'null';
	if (Array.isArray(v)) return 'array';
	return typeof v;
}

function walk(v, path, out) {
	const t = typeOf(v);
	if (t === 'array') {
		// What the elements are, not how many: "[]" stands for every element.
		const elems = new Set(v.map(typeOf));
		out.set(path, 'array' + (elems.size ? '<' + [...elems].sort().join('|') + '>' : ''));
		for (const e of v)
			if (typeOf(e) === 'object') walk(e, path + '[]', out);
		return;
	}
	out.set(path, t);
	if (t === 'object')
		for (const k of Object.keys(v)) walk(v[k], path ? path + '.' + k : k, out);
}

// An empty array says nothing of its elements: "array" matches any "array<...>".
function sameType(a, b) {
	return a === b || (a === 'array' && b.startsWith('array')) || (b === 'array' && a.startsWith('array'));
}

const [pm2File, tendFile, allowFile] = process.argv.slice(2);
const allow = fs.readFileSync(allowFile, 'utf8').split('\n')
	.filter((l) => l && !l.startsWith('#') && !l.startsWith('exit:')).map((l) => l.split('\t'));
function why(path) {
	const a = allow.find(([prefix]) => path === prefix || path.startsWith(prefix));
	return a ? a[1] : null;
}

const pm2 = parse(pm2File), tend = parse(tendFile);
let diffs = 0;
function report(kind, path, rest) {
	const w = kind === 'only-tend' ? 'tend extra' : why(path);
	if (!w) diffs++;
	console.log(`${w ? 'ok  ' : 'DIFF'} ${kind} ${path} ${rest}${w ? '  (' + w + ')' : ''}`);
}

// Instances in pm_id order, grouped by name: the n-th "api" of each side is compared.
function byName(list) {
	const m = new Map();
	for (const p of [...list].sort((a, b) => a.pm_id - b.pm_id)) {
		if (!m.has(p.name)) m.set(p.name, []);
		m.get(p.name).push(p);
	}
	return m;
}
const P = byName(pm2), T = byName(tend);
for (const name of new Set([...P.keys(), ...T.keys()])) {
	const a = P.get(name) || [], b = T.get(name) || [];
	if (a.length !== b.length)
		report('count', name, `pm2=${a.length} tend=${b.length}`);
	for (let i = 0; i < Math.min(a.length, b.length); i++) {
		const ka = new Map(), kb = new Map();
		// PM2's app-named env key reads "<name>", so one allow line covers every app.
		const named = (m) => new Map([...m].map(([k, v]) =>
			[k.split('.').map((w) => w === name ? '<name>' : w).join('.'), v]));
		walk(a[i], '', ka);
		walk(b[i], '', kb);
		[ka, kb].forEach((m) => { const n = named(m); m.clear(); n.forEach((v, k) => m.set(k, v)); });
		const seen = new Set();
		for (const [path, t] of ka) {
			// One report per path across instances of an app.
			if (!kb.has(path)) { if (!seen.has(path)) report('only-pm2', path, t); }
			else if (!sameType(t, kb.get(path))) report('type', path, `${t} ${kb.get(path)}`);
			seen.add(path);
		}
		if (i === 0)
			for (const [path, t] of kb)
				if (!ka.has(path)) report('only-tend', path, t);
	}
}
process.exit(diffs ? 1 : 0);
