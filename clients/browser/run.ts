// The browser test: serves the single-page app built into the directory given as argument from
// $SPA_ORIGIN, drives it in headless Chromium against the API at $API_URL, then loads the API's
// /docs and /redoc and fails if any page there asks another host for anything.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';

import { type BrowserContext, chromium, type Page } from 'playwright-core';

import {
  createTimeEntry,
  createWorkspace,
  getTimeEntry,
  listEvents,
  listTimeEntries,
  login,
  register,
  updateTimeEntry,
} from '../generated/ts';
import { client } from '../generated/ts/client.gen';
import { check, etagOf, ok } from '../ts/answers';

const API_URL = process.env.API_URL!;
const SPA_ORIGIN = process.env.SPA_ORIGIN!;
const SPA_DIR = process.argv[2]!;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REFRESH_COOKIE = 'refresh_token';

function serveSpa(): Promise<() => void> {
  const server = createServer((request, response) => {
    const name = new URL(request.url ?? '/', SPA_ORIGIN).pathname === '/app.js' ? 'app.js' : 'index.html';
    readFile(join(SPA_DIR, name)).then(
      (body) => response.writeHead(200, { 'content-type': TYPES[extname(name)]! }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  const { hostname, port } = new URL(SPA_ORIGIN);
  return new Promise((listening) =>
    server.listen(Number(port), hostname, () => listening(() => server.close())),
  );
}

/** Does `act` in the app and gives the status line it ends with. */
async function statusAfter(page: Page, act: () => Promise<void>): Promise<string> {
  const status = page.locator('#status');
  await status.evaluate((output: HTMLOutputElement) => (output.value = ''));
  await act();
  await page.waitForFunction(() => {
    const text = document.querySelector('#status')?.textContent;
    return text && text !== '…';
  });
  return (await status.textContent()) ?? '';
}

async function refreshCookie(context: BrowserContext) {
  const cookie = (await context.cookies()).find((each) => each.name === REFRESH_COOKIE);
  check(cookie, 'the API set no refresh cookie');
  return cookie;
}

async function spaScenario(context: BrowserContext): Promise<void> {
  // The account and workspace come from the SDK under Node, which later plays a second tab.
  const email = `spa-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(12).toString('base64url');
  let otherTabToken = '';
  client.setConfig({ baseUrl: API_URL, auth: () => otherTabToken });
  await ok(register({ body: { email, password, full_name: 'Browser' } }), 201, 'register');
  otherTabToken = (await ok(login({ body: { username: email, password } }), 200, 'sign in')).data
    .access_token;
  const workspace = (await ok(createWorkspace({ body: { name: 'Browser' } }), 201, 'workspace')).data;

  const page = await context.newPage();
  await page.goto(`${SPA_ORIGIN}/?api=${encodeURIComponent(API_URL)}`);
  const signedIn = await statusAfter(page, async () => {
    await page.fill('#sign-in [name=email]', email);
    await page.fill('#sign-in [name=password]', password);
    await page.click('#sign-in button');
  });
  check(signedIn === 'signed in', `sign in: ${signedIn}`);
  const issued = await refreshCookie(context);
  check(issued.httpOnly, 'the refresh cookie is readable by scripts');
  check(issued.path === '/api/v1/auth', `the refresh cookie goes to ${issued.path}`);

  const renewed = await statusAfter(page, () => page.click('#refresh'));
  check(renewed === 'session renewed', `refresh through the cookie: ${renewed}`);
  check((await refreshCookie(context)).value !== issued.value, 'the refresh cookie did not rotate');

  const created = await statusAfter(page, async () => {
    await page.fill('#new-entry [name=workspace]', workspace.id);
    await page.fill('#new-entry [name=description]', 'Standup');
    await page.click('#new-entry button');
  });
  check(/^entry [0-9a-f-]+ saved$/.test(created), `create an entry: ${created}`);

  const edit = (description: string) =>
    statusAfter(page, async () => {
      await page.fill('#edit-entry [name=description]', description);
      await page.click('#edit-entry button');
    });
  const edited = await edit('Standup and planning');
  check(edited === 'entry saved as "Standup and planning"', `edit with If-Match: ${edited}`);

  // Someone else changes the entry; the app's ETag is now stale.
  const path = { workspace_id: workspace.id };
  const [entry] = (await ok(listTimeEntries({ path }), 200, 'list')).data.items;
  check(entry, 'the entry the app created is not listed');
  const entryPath = { ...path, entry_id: entry.id };
  const current = await ok(getTimeEntry({ path: entryPath }), 200, 'read the entry');
  await ok(
    updateTimeEntry({
      path: entryPath,
      body: { description: 'Changed in another tab' },
      headers: { 'If-Match': etagOf(current.response) },
    }),
    200,
    'edit from the other tab',
  );
  const refused = await edit('Lost edit');
  check(refused.startsWith('refused 412: '), `a stale edit: ${refused}`);

  // The page follows the workspace live; an entry made elsewhere appears in it.
  const following = await statusAfter(page, async () => {
    await page.fill('#follow [name=workspace]', workspace.id);
    await page.click('#follow button');
  });
  check(following === 'following', `follow the workspace live: ${following}`);
  const end = new Date();
  const made = await ok(
    createTimeEntry({
      path,
      body: {
        start_at: new Date(end.getTime() - 600_000).toISOString(),
        end_at: end.toISOString(),
        description: 'Made in another tab',
      },
    }),
    201,
    'create an entry from the other tab',
  );
  const shown = page.locator('#live li', { hasText: 'Made in another tab' });
  await shown.waitFor({ timeout: 10_000 });
  const [madeEvent] = (
    await ok(listEvents({ path, query: { subject_id: made.data.id } }), 200, 'read its event')
  ).data.items;
  check(madeEvent, 'the new entry has no event in the audit log');
  const sequence = await shown.getAttribute('data-sequence');
  check(sequence === String(madeEvent.sequence), `the live event's id is ${sequence}`);
  await page.close();
}

async function docsStayOnTheirHost(context: BrowserContext): Promise<void> {
  const apiHost = new URL(API_URL).host;
  const elsewhere: string[] = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith('http') && url.host !== apiHost) {
      elsewhere.push(url.href);
    }
  });
  const page = await context.newPage();
  await page.goto(`${API_URL}/docs`, { waitUntil: 'networkidle' });
  await page.locator('.swagger-ui .info .title', { hasText: 'Timesheet' }).waitFor();
  await page.goto(`${API_URL}/redoc`, { waitUntil: 'networkidle' });
  await page.locator('h1', { hasText: 'Timesheet' }).first().waitFor();
  await page.close();
  check(elsewhere.length === 0, `/docs or /redoc asked other hosts for: ${elsewhere.join(', ')}`);
}

async function main(): Promise<void> {
  const stopSpa = await serveSpa();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext();
    context.setDefaultTimeout(60_000);
    await spaScenario(context);
    console.log(
      'browser: the app signed in, renewed its session by cookie, saved, was refused a stale edit, ' +
        'and saw an entry made elsewhere arrive on its EventSource',
    );
    await docsStayOnTheirHost(context);
    console.log('browser: /docs and /redoc loaded from the API host alone');
  } finally {
    await browser.close();
    stopSpa();
  }
}

main().catch((failure: unknown) => {
  console.error(failure);
  process.exit(1);
});
