// A front end's day, driven through the generated TypeScript SDK under Node, against the live
// server at $API_URL. The first wrong answer stops the run with a message.
import { randomBytes } from 'node:crypto';

import {
  createClient,
  createProject,
  createTag,
  createTimeEntry,
  createWorkspace,
  listTimeEntries,
  login,
  register,
  startTimer,
  stopTimer,
  summaryReport,
  updateTimeEntry,
} from '../generated/ts';
import { client } from '../generated/ts/client.gen';
import { check, etagOf, ok, problem, runningTimer } from './answers';

const HOUR_MS = 3_600_000;

async function main(): Promise<void> {
  const email = `ts-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(12).toString('base64url');
  let accessToken = '';
  client.setConfig({ baseUrl: process.env.API_URL, auth: () => accessToken });

  await ok(register({ body: { email, password, full_name: 'TypeScript Client' } }), 201, 'register');
  const refused = await problem(
    login({ body: { username: email, password: `${password}!` } }),
    401,
    'sign in with a wrong password',
  );
  check(refused.detail, 'the 401 Problem has no detail');
  const tokens = await ok(login({ body: { username: email, password } }), 200, 'sign in');
  accessToken = tokens.data.access_token;

  const workspace = await ok(createWorkspace({ body: { name: 'TypeScript' } }), 201, 'create a workspace');
  const path = { workspace_id: workspace.data.id };
  const customer = await ok(createClient({ path, body: { name: 'Acme' } }), 201, 'create a client');
  const project = await ok(
    createProject({ path, body: { name: 'Website', client_id: customer.data.id } }),
    201,
    'create a project',
  );
  const tag = await ok(createTag({ path, body: { name: 'design' } }), 201, 'create a tag');

  const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 3 * HOUR_MS);
  const created = await ok(
    createTimeEntry({
      path,
      body: {
        start_at: start.toISOString(),
        end_at: new Date(start.getTime() + HOUR_MS).toISOString(),
        project_id: project.data.id,
        tag_ids: [tag.data.id],
        description: 'Wireframes',
      },
    }),
    201,
    'create a time entry',
  );
  const entry = created.data;
  const firstEtag = etagOf(created.response);

  const page = await ok(listTimeEntries({ path }), 200, 'list time entries');
  check(
    page.data.items.length === 1 && page.data.items[0]?.id === entry.id,
    `the list shows ${JSON.stringify(page.data.items)}`,
  );

  const entryPath = { ...path, entry_id: entry.id };
  const describe = (description: string, etag: string) =>
    updateTimeEntry({ path: entryPath, body: { description }, headers: { 'If-Match': etag } });
  const updated = await ok(
    describe('Wireframes, second round', firstEtag),
    200,
    'update the entry with If-Match',
  );
  check(updated.data.description === 'Wireframes, second round', 'the update did not land');
  check(etagOf(updated.response) !== firstEtag, 'the ETag did not change with the entry');
  await problem(describe('Lost', firstEtag), 412, 'update with a stale If-Match');

  check((await runningTimer()) === null, 'a timer runs before any was started');
  const timer = await ok(
    startTimer({ path, body: { project_id: project.data.id, description: 'Call' } }),
    201,
    'start the timer',
  );
  check((await runningTimer())?.id === timer.data.id, 'the started timer is not the running one');
  const stopped = await ok(stopTimer({ path }), 200, 'stop the timer');
  check(stopped.data.id === timer.data.id && stopped.data.end_at, 'the timer did not stop');
  check((await runningTimer()) === null, 'the timer still runs after it was stopped');

  const report = await ok(summaryReport({ path, query: { group_by: 'project' } }), 200, 'summary report');
  check(report.data.totals.seconds >= 3600, `totals ${JSON.stringify(report.data.totals)}`);
  check(
    report.data.groups.map((group) => group.label).join() === 'Website',
    `groups ${JSON.stringify(report.data.groups)}`,
  );

  console.log('TypeScript SDK scenario: every step answered as expected');
}

main().catch((failure: unknown) => {
  console.error(failure);
  process.exit(1);
});
