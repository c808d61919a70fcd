/**
 * Drive a node's dashboard in Debian's Chromium through playwright-core (no browser download): launch,
 * open the page as the node's operator (Playwright presents the operator's client certificate at the
 * mutual-TLS handshake), and the page actions the tests (and later the demo) check. Everything takes a
 * node URL and an operator certificate, so it can be pointed at any running node, e.g. the demo's.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium; .ci/run does)`;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface DashboardTarget {
  /** The node's gateway, e.g. https://127.0.0.1:7443. */
  url: string;
  /** A client certificate the node trusts (its operator's, keys/api-client.*; or a member's). PEM. */
  cert: string;
  key: string;
}

export interface OpenDashboard {
  context: BrowserContext;
  page: Page;
  /** Browser console errors and failed page requests seen so far. */
  problems: string[];
}

/**
 * Open the dashboard of `t.url` with `t`'s client certificate and wait until the page has loaded its
 * data. The node's certificate is self-signed and pinned through the roster, so the browser is told to
 * accept it (ignoreHTTPSErrors); the node itself only lets in the certificates it trusts.
 */
export async function openDashboard(browser: Browser, t: DashboardTarget): Promise<OpenDashboard> {
  const origin = new URL(t.url).origin;
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    clientCertificates: [{ origin, cert: Buffer.from(t.cert), key: Buffer.from(t.key) }],
  });
  const page = await context.newPage();
  const problems: string[] = [];
  // HTTP errors are recorded with their URL (the browser's console line for them has none); a node
  // without an orchestrator answers 404 on /api/orchestrator, which the page expects.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && !(r.status() === 404 && path === '/api/orchestrator'))
      problems.push(`HTTP ${r.status()}: ${r.request().method()} ${path}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A reload cancels the page's pending fetches (net::ERR_ABORTED): not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  await page.goto(`${origin}/`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
  return { context, page, problems };
}

/** The job's card on the page. */
export const jobCard = (page: Page, jobId: string) => page.locator(`article.job[data-job="${jobId}"]`);

/** Wait for the job's card to show `state`. */
export async function waitForJobState(page: Page, jobId: string, state: string): Promise<void> {
  await jobCard(page, jobId).locator(`.state[data-state="${state}"]`).waitFor({ timeout: 15_000 });
}

/** Click Approve on a job; resolves with the page's message about it. */
export async function approveFromPage(page: Page, jobId: string): Promise<string> {
  const msg = page.locator('#jobs-message');
  await jobCard(page, jobId).locator('button[data-action="approve"]').click();
  await page.waitForFunction(
    (id) => document.getElementById('jobs-message')?.textContent?.startsWith(`${id}:`),
    jobId,
  );
  return (await msg.textContent()) ?? '';
}

/** Type a reason and click Refuse on a job; resolves with the page's message about it. */
export async function refuseFromPage(page: Page, jobId: string, reason: string): Promise<string> {
  await jobCard(page, jobId).getByLabel('Reason to refuse').fill(reason);
  await page.evaluate(() => {
    document.getElementById('jobs-message')!.textContent = '';
  });
  await jobCard(page, jobId).locator('button[data-action="refuse"]').click();
  await page.waitForFunction(
    (id) => document.getElementById('jobs-message')?.textContent?.startsWith(`${id}:`),
    jobId,
  );
  return (await page.locator('#jobs-message').textContent()) ?? '';
}

export interface CurveState {
  /** Epochs plotted. */
  points: number;
  /** The chart's accessible summary (epochs and last loss). */
  label: string;
  /** Canvas pixels in the loss series' colour (blue-dominant): > 0 means a line was drawn. */
  lossPixels: number;
}

/** Wait until the job's training curve has `points` epochs, and read what the canvas shows. */
export async function waitForCurve(
  page: Page,
  jobId: string,
  points: number,
  timeoutMs = 15_000,
): Promise<CurveState> {
  const box = page.locator(`figure[data-curve="${jobId}"]`);
  await page.waitForFunction(
    ([id, n]) =>
      document.querySelector(`figure[data-curve="${id}"]`)?.getAttribute('data-points') === String(n),
    [jobId, points] as const,
    { timeout: timeoutMs },
  );
  // uPlot draws on the next animation frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const lossPixels = await box.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d');
    if (!ctx) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i]!;
      const g = d[i + 1]!;
      const b = d[i + 2]!;
      if (d[i + 3]! > 0 && b > 150 && b - r > 80 && b - g > 40) n++;
    }
    return n;
  });
  return {
    points: Number(await box.getAttribute('data-points')),
    label: (await box.getAttribute('aria-label')) ?? '',
    lossPixels,
  };
}

/**
 * Click "Verify the ledger"; resolves with the page's verdict ('true': entries and a co-signed
 * checkpoint verified; 'partial': entries verified, no co-signed checkpoint yet; 'false': failed)
 * and the result text shown.
 */
export async function verifyFromPage(page: Page): Promise<{ ok: boolean; verdict: string; text: string }> {
  await page.evaluate(() => document.getElementById('verify-result')!.removeAttribute('data-ok'));
  await page.locator('#verify-ledger').click();
  const out = page.locator('#verify-result[data-ok]');
  await out.waitFor({ timeout: 15_000 });
  const verdict = (await out.getAttribute('data-ok')) ?? '';
  return { ok: verdict === 'true', verdict, text: (await out.textContent()) ?? '' };
}

/** The members table: name → 'up' | 'down'. */
export async function memberHealthOnPage(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const tr of Array.from(document.querySelectorAll('#members-body tr[data-member]')))
      out[tr.getAttribute('data-member')!] =
        tr.querySelector('[data-health]')?.getAttribute('data-health') ?? '';
    return out;
  });
}
