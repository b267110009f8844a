// End-to-end browser test of the dashboard and deploy pages.
//
// Drives the system Chromium through playwright-core against a running
// Docker Watcher server:
//   1. open the dashboard and wait until it is connected to /api/events;
//   2. POST the webhook for DW_IMAGE and read the queued deploy's id;
//   3. without reloading, wait until the instance for DW_EXPECT_TAG is
//      running and the deploy row says succeeded;
//   4. open the deploy page from its link and check its log and status;
//   5. POST the webhook for DW_NEXT_IMAGE, open that deploy's page while it
//      runs, and see log lines arrive without a reload until it succeeds;
//   6. on the dashboard, stop and start the running instance with its
//      buttons, deploy DW_EXPECT_TAG again by typing it into the stage's
//      tag field, then roll the stage back, each seen through to the end.
//
// Environment:
//   DW_URL           base URL of the server, e.g. http://127.0.0.1:41234
//   DW_WEBHOOK_URL   full webhook URL, secret included
//   DW_IMAGE         image reference to send (already pushed)
//   DW_EXPECT_TAG    the tag of DW_IMAGE
//   DW_NEXT_IMAGE    a second image reference to send (already pushed); its
//                    deploy replaces the first instance, which takes a few
//                    seconds, so its log is seen growing
//   DW_ARTIFACT_DIR  where screenshots go (default: a new temporary folder)
//   DW_CHROMIUM      Chromium binary (default /usr/bin/chromium)
//
// Exit code 0 means pass; on failure a message says what was expected and
// what the page showed, and failure.png is saved next to the screenshots.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const DEPLOY_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 20_000;
const WHOLE_RUN_TIMEOUT_MS = 180_000;

class TestFailure extends Error {}

function fail(message) {
	throw new TestFailure(message);
}

function requireEnv(name) {
	const value = process.env[name];
	if (!value) fail(`environment variable ${name} is required`);
	return value;
}

function log(message) {
	console.log(`[browser-test] ${message}`);
}

/**
 * Polls `probe` (which returns a description of what the page shows) until
 * `done(state)` holds. `broken(state)` may return a message to fail at once.
 */
async function waitFor(what, probe, done, { timeout = STEP_TIMEOUT_MS, broken } = {}) {
	const deadline = Date.now() + timeout;
	let state;
	for (;;) {
		state = await probe();
		if (done(state)) return state;
		const why = broken?.(state);
		if (why) fail(`${what}: ${why}\n  page showed: ${JSON.stringify(state)}`);
		if (Date.now() > deadline) {
			fail(`timed out after ${timeout / 1000} s waiting for ${what}\n  page showed: ${JSON.stringify(state)}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}

async function main() {
	const baseUrl = requireEnv('DW_URL').replace(/\/+$/, '');
	const webhookUrl = requireEnv('DW_WEBHOOK_URL');
	const image = requireEnv('DW_IMAGE');
	const tag = requireEnv('DW_EXPECT_TAG');
	const nextImage = requireEnv('DW_NEXT_IMAGE');
	const artifactDir = process.env.DW_ARTIFACT_DIR || mkdtempSync(join(tmpdir(), 'dw-browser-'));
	mkdirSync(artifactDir, { recursive: true });
	log(`server ${baseUrl}, image ${image}, screenshots in ${artifactDir}`);

	// launch() always starts from a fresh temporary profile that it removes
	// on close; nothing from the user's own Chromium profile is used.
	const browser = await chromium.launch({
		executablePath: process.env.DW_CHROMIUM || '/usr/bin/chromium',
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync'
		]
	});

	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const pageErrors = [];
	page.on('pageerror', (err) => pageErrors.push(err.message));
	page.on('console', (msg) => {
		if (msg.type() === 'error') pageErrors.push(msg.text());
	});

	try {
		await run(page, { baseUrl, webhookUrl, image, tag, artifactDir });
		await watchLiveLog(page, { baseUrl, webhookUrl, image: nextImage, artifactDir });
		await useActions(page, { baseUrl, tag, nextTag: nextImage.split(':').pop(), artifactDir });
	} catch (err) {
		await page
			.screenshot({ path: join(artifactDir, 'failure.png'), fullPage: true })
			.then(() => log(`saved ${join(artifactDir, 'failure.png')}`))
			.catch(() => {});
		if (pageErrors.length) log(`errors in the page:\n  ${pageErrors.join('\n  ')}`);
		throw err;
	} finally {
		await browser.close();
	}
}

/** POSTs the webhook for `image` and returns the queued deploy (preferring the one for `tag`). */
async function postWebhook(webhookUrl, image, tag) {
	const hook = await fetch(webhookUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ image })
	});
	const hookText = await hook.text();
	if (hook.status !== 202) fail(`expected the webhook to answer 202, got ${hook.status}: ${hookText}`);
	let hookBody;
	try {
		hookBody = JSON.parse(hookText);
	} catch {
		fail(`expected a JSON answer from the webhook, got: ${hookText}`);
	}
	const queued = hookBody?.data?.deploys ?? [];
	const deploy = queued.find((d) => d.tag === tag) ?? queued[0];
	if (!hookBody.success || !deploy || typeof deploy.id !== 'number') {
		fail(`expected the webhook to queue a deploy for ${image}, got: ${hookText}`);
	}
	return deploy;
}

async function run(page, { baseUrl, webhookUrl, image, tag, artifactDir }) {
	// 1. Dashboard, connected to the live stream.
	const response = await page.goto(`${baseUrl}/`, { waitUntil: 'domcontentloaded' });
	if (!response || !response.ok()) {
		fail(`expected the dashboard at ${baseUrl}/ to load, got HTTP ${response?.status() ?? 'no response'}`);
	}
	const indicator = () =>
		page.evaluate(() => {
			const el = document.querySelector('[data-testid="live-indicator"]');
			return el ? { connected: el.getAttribute('data-connected'), text: el.textContent?.trim() } : null;
		});
	await waitFor('the live indicator to show data-connected="true"', indicator, (s) => s?.connected === 'true');
	log('dashboard is live');

	// Marks this document: if the page reloads, the mark is gone.
	await page.evaluate(() => {
		window.__dwNoReload = true;
	});
	let navigations = 0;
	page.on('framenavigated', (frame) => {
		if (frame === page.mainFrame()) navigations++;
	});

	// 2. Trigger a deploy through the webhook.
	const deploy = await postWebhook(webhookUrl, image, tag);
	const deployId = deploy.id;
	log(`webhook queued deploy #${deployId} (${deploy.project}/${deploy.stage}:${deploy.tag})`);

	// 3. The dashboard follows the deploy live.
	const dashboardState = () =>
		page.evaluate((id) => {
			const row = document.querySelector(`[data-testid="deploy-row"][data-deploy-id="${id}"]`);
			return {
				reloaded: !window.__dwNoReload,
				live: document.querySelector('[data-testid="live-indicator"]')?.getAttribute('data-connected') ?? null,
				deploy: row
					? { status: row.getAttribute('data-status'), text: row.innerText?.replace(/\s+/g, ' ').trim() }
					: null,
				instances: [...document.querySelectorAll('[data-testid="instance-row"]')].map(
					(r) => `${r.getAttribute('data-tag')}:${r.getAttribute('data-status')}`
				)
			};
		}, deployId);
	const isRunning = (s) => s.instances.includes(`${tag}:running`);
	await waitFor(
		`deploy row #${deployId} with data-status="succeeded" and an instance row with data-tag="${tag}" data-status="running"`,
		dashboardState,
		(s) => s.deploy?.status === 'succeeded' && isRunning(s),
		{
			timeout: DEPLOY_TIMEOUT_MS,
			broken: (s) => {
				if (s.reloaded) return 'the page reloaded; it must update live';
				if (s.deploy && ['failed', 'interrupted'].includes(s.deploy.status ?? '')) {
					return `deploy #${deployId} ended ${s.deploy.status}`;
				}
				return null;
			}
		}
	);
	if (navigations > 0) fail(`expected no navigation while the deploy ran, saw ${navigations}`);
	log(`dashboard shows deploy #${deployId} succeeded and ${tag} running, without a reload`);
	await page.screenshot({ path: join(artifactDir, 'dashboard.png'), fullPage: true });
	log(`saved ${join(artifactDir, 'dashboard.png')}`);

	// 4. The deploy page, reached through the row's link.
	const link = page.locator(`[data-testid="deploy-row"][data-deploy-id="${deployId}"] a[href="/deploys/${deployId}"]`);
	if ((await link.count()) === 0) fail(`expected deploy row #${deployId} to link to /deploys/${deployId}`);
	await link.first().click();
	await page.waitForURL(`**/deploys/${deployId}`, { timeout: STEP_TIMEOUT_MS }).catch(() => {
		fail(`expected to land on /deploys/${deployId} after clicking the link, URL is ${page.url()}`);
	});

	const deployPageState = () => readDeployPage(page);
	const final = await waitFor(
		'the deploy page to show data-status="succeeded" and its complete log (at least one line)',
		deployPageState,
		(s) => s.status === 'succeeded' && s.stream === 'ended' && s.seqs.length > 0,
		{
			broken: (s) =>
				s.status && ['failed', 'interrupted'].includes(s.status) ? `deploy ended ${s.status}` : null
		}
	);
	for (let i = 1; i < final.seqs.length; i++) {
		if (!(final.seqs[i] > final.seqs[i - 1])) {
			fail(`expected log lines in increasing seq order, got ${JSON.stringify(final.seqs)}`);
		}
	}
	if (final.lines.some((l) => l === '')) fail(`expected every log line to have text, got ${JSON.stringify(final.lines)}`);
	log(`deploy page shows ${final.seqs.length} log lines in order and status succeeded`);
	await page.screenshot({ path: join(artifactDir, 'deploy.png'), fullPage: true });
	log(`saved ${join(artifactDir, 'deploy.png')}`);
}

/** What the deploy page shows: its status, the log stream's state and the log lines. */
function readDeployPage(page) {
	return page.evaluate(() => ({
		status: document.querySelector('[data-testid="deploy-status"]')?.getAttribute('data-status') ?? null,
		stream: document.querySelector('[data-testid="log-stream-state"]')?.getAttribute('data-state') ?? null,
		seqs: [...document.querySelectorAll('[data-testid="log-line"]')].map((el) => Number(el.getAttribute('data-seq'))),
		lines: [...document.querySelectorAll('[data-testid="log-line"]')].map((el) => el.textContent?.trim() ?? ''),
		heading: document.querySelector('h1')?.textContent?.trim() ?? null,
		steps: [...document.querySelectorAll('[data-testid="deploy-steps"] li .mono')].map((el) => el.textContent?.trim() ?? '')
	}));
}

/**
 * 5. Opens a deploy's page while it is still running and checks that log lines arrive on the
 * open page (more lines later than at first sight, no reload) until the deploy succeeds.
 */
async function watchLiveLog(page, { baseUrl, webhookUrl, image, artifactDir }) {
	const deploy = await postWebhook(webhookUrl, image, null);
	log(`webhook queued deploy #${deploy.id} (${deploy.tag}); opening its page while it runs`);
	await page.goto(`${baseUrl}/deploys/${deploy.id}`, { waitUntil: 'domcontentloaded' });
	await page.evaluate(() => {
		window.__dwNoReload = true;
	});
	const first = await waitFor(
		`deploy #${deploy.id}'s page to show at least one log line while the deploy is still running`,
		() => readDeployPage(page),
		(s) => s.seqs.length > 0 && s.stream !== 'ended',
		{ broken: (s) => (s.stream === 'ended' ? 'the deploy ended before its page could watch it' : null) }
	);
	const final = await waitFor(
		`deploy #${deploy.id}'s page to show data-status="succeeded" and its complete log`,
		async () => ({ ...(await readDeployPage(page)), reloaded: await page.evaluate(() => !window.__dwNoReload) }),
		(s) => s.status === 'succeeded' && s.stream === 'ended',
		{
			timeout: DEPLOY_TIMEOUT_MS,
			broken: (s) => {
				if (s.reloaded) return 'the page reloaded; the log must stream into the open page';
				if (['failed', 'interrupted'].includes(s.status ?? '')) return `deploy ended ${s.status}`;
				return null;
			}
		}
	);
	if (!(final.seqs.length > first.seqs.length)) {
		fail(`expected log lines to arrive while the page was open: saw ${first.seqs.length} at first and ${final.seqs.length} at the end`);
	}
	const expected = Array.from({ length: final.seqs.length }, (_, i) => i + 1);
	if (JSON.stringify(final.seqs) !== JSON.stringify(expected)) {
		fail(`expected lines 1..${final.seqs.length} once each and in order, got ${JSON.stringify(final.seqs)}`);
	}
	log(`deploy page showed ${first.seqs.length} lines at first and ${final.seqs.length} when the deploy ended`);
	const withSteps = await waitFor(
		`deploy #${deploy.id}'s page to list its steps (pull … replace) once it ended`,
		() => readDeployPage(page),
		(s) => ['pull', 'create', 'start', 'health', 'replace'].every((step) => s.steps.includes(step))
	);
	log(`deploy page lists the steps ${withSteps.steps.join(', ')}`);
	await page.screenshot({ path: join(artifactDir, 'deploy-live.png'), fullPage: true });
	log(`saved ${join(artifactDir, 'deploy-live.png')}`);
}

/** The instance rows of the dashboard as "tag:status". */
function readInstances(page) {
	return page.evaluate(() =>
		[...document.querySelectorAll('[data-testid="instance-row"]')].map(
			(r) => `${r.getAttribute('data-tag')}:${r.getAttribute('data-status')}`
		)
	);
}

/** Waits on the deploy page the dashboard navigated to until the deploy succeeds. */
async function followToSuccess(page, what) {
	await page.waitForURL(/\/deploys\/\d+$/, { timeout: STEP_TIMEOUT_MS });
	await waitFor(
		`${what}: the deploy page to show data-status="succeeded"`,
		() => readDeployPage(page),
		(s) => s.status === 'succeeded' && s.stream === 'ended',
		{
			timeout: DEPLOY_TIMEOUT_MS,
			broken: (s) => (['failed', 'interrupted', 'skipped'].includes(s.status ?? '') ? `deploy ended ${s.status}` : null)
		}
	);
}

async function useActions(page, { baseUrl, tag, nextTag, artifactDir }) {
	await page.goto(`${baseUrl}/`, { waitUntil: 'domcontentloaded' });
	const row = `[data-testid="instance-row"][data-tag="${nextTag}"]`;
	await waitFor(`the ${nextTag} instance to be listed as running`, () => readInstances(page), (rows) =>
		rows.includes(`${nextTag}:running`)
	);
	await page.click(`${row} button[data-action="stop"]`);
	await waitFor(`the ${nextTag} instance to show stopped`, () => readInstances(page), (rows) =>
		rows.includes(`${nextTag}:stopped`)
	);
	await page.click(`${row} button[data-action="start"]`);
	await waitFor(`the ${nextTag} instance to run again`, () => readInstances(page), (rows) =>
		rows.includes(`${nextTag}:running`)
	);
	log(`stopped and started the ${nextTag} instance from the dashboard`);

	await page.fill('.stage-actions input', tag);
	await page.click('.stage-actions button[type="submit"]');
	await followToSuccess(page, `deploying ${tag} from the stage's tag field`);
	log(`deployed ${tag} from the dashboard`);

	await page.goto(`${baseUrl}/`, { waitUntil: 'domcontentloaded' });
	await waitFor(`the ${tag} instance to be the one running`, () => readInstances(page), (rows) =>
		JSON.stringify(rows) === JSON.stringify([`${tag}:running`])
	);
	await page.click('.stage-actions button[type="button"]');
	await followToSuccess(page, 'rolling the stage back');
	await page.goto(`${baseUrl}/`, { waitUntil: 'domcontentloaded' });
	await waitFor(`the rollback to bring ${nextTag} back`, () => readInstances(page), (rows) =>
		JSON.stringify(rows) === JSON.stringify([`${nextTag}:running`])
	);
	log(`rolled the stage back to ${nextTag} from the dashboard`);
	await page.screenshot({ path: join(artifactDir, 'actions.png'), fullPage: true });
}

const watchdog = setTimeout(() => {
	console.error(`[browser-test] FAIL: the whole run took longer than ${WHOLE_RUN_TIMEOUT_MS / 1000} s`);
	console.log('browser: 0 passed, 1 failed');
	process.exit(1);
}, WHOLE_RUN_TIMEOUT_MS);
watchdog.unref();

try {
	await main();
	console.log('browser: 1 passed, 0 failed');
	process.exit(0);
} catch (err) {
	const message = err instanceof TestFailure ? err.message : err?.stack || String(err);
	console.error(`[browser-test] FAIL: ${message}`);
	console.log('browser: 0 passed, 1 failed');
	process.exit(1);
}
