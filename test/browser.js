// test/browser.js URL TOKEN SCREENSHOT: the dashboard in Debian's headless Chromium,
// driven through puppeteer-core. Types the token into the page's own dialog, waits for
// the apps in the table, clicks Restart on "sl" (the caller checks the restart count in
// jlist), waits for a line of "talk" in the log tail, takes a screenshot. Prints what it
// did; exits 1 with why when a step fails.
'use strict';
const puppeteer = require('puppeteer-core');
const [url, token, shot] = process.argv.slice(2);

(async () => {
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	const fail = async (why) => {
		console.error('browser: ' + why);
		await browser.close();
		process.exit(1);
	};
	try {
		const page = await browser.newPage();
		const errors = [];
		page.on('pageerror', (e) => errors.push(String(e)));
		page.on('dialog', (d) => d.accept());   // the y/N of Delete, if any
		await page.setViewport({width: 1280, height: 800});
		await page.goto(url, {waitUntil: 'domcontentloaded'});
		await page.waitForSelector('#login[open]', {timeout: 10000});
		await page.type('#token', token);
		await page.click('#go');
		await page.waitForFunction(() => [...document.querySelectorAll('#apps tr.app td:nth-child(2)')]
			.map((td) => td.textContent).includes('sl'), {timeout: 15000});
		const names = await page.$$eval('#apps tr.app td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
		console.log('apps: ' + names.join(' '));
		await page.waitForFunction(() => document.querySelector('#conn').textContent === 'live', {timeout: 15000});
		// Restart sl from its row.
		// (the table is redrawn as events come: find and click in one step in the page)
		const clickIn = (name, selector) => page.evaluate((n, sel) => {
			const tr = [...document.querySelectorAll('#apps tr.app')].find((r) => r.children[1].textContent === n);
			tr.querySelector(sel).click();
		}, name, selector);
		await clickIn('sl', 'button[data-act=restart]');
		await page.waitForFunction(() => /restart sl\[\d+\]: done/.test(document.querySelector('#status').textContent),
			{timeout: 20000});
		console.log('restart: ' + await page.$eval('#status', (s) => s.textContent));
		// Select talk: its old lines, then a live one.
		await clickIn('talk', 'td:nth-child(2)');
		await page.waitForFunction(() => /line-\d+/.test(document.querySelector('#logs').textContent), {timeout: 15000});
		const first = await page.$eval('#logs', (l) => l.lastChild.textContent);
		await page.waitForFunction((f) => document.querySelector('#logs').lastChild.textContent !== f,
			{timeout: 15000}, first);
		console.log('live log line: ' + await page.$eval('#logs', (l) => l.lastChild.textContent));
		// samples have drawn sparklines (two samples make one)
		await page.waitForFunction(() => document.querySelector('#apps svg.spark'), {timeout: 20000});
		await page.screenshot({path: shot, fullPage: true});
		await page.setViewport({width: 390, height: 844, isMobile: true});
		await page.screenshot({path: shot.replace(/\.png$/, '-phone.png'), fullPage: true});
		if (errors.length)
			await fail('errors in the page: ' + errors.join('; '));
		console.log('screenshot: ' + shot);
		await browser.close();
	} catch (e) {
		await fail(e.message);
	}
})();
