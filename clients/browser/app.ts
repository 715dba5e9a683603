// A minimal single-page app on its own origin, built from the generated SDK. It keeps the
// access token in memory only; the refresh token lives in the API's HttpOnly cookie, which
// `credentials: 'include'` lets the browser send to the API's auth paths. It follows a
// workspace live with an EventSource, opened with a ticket since it cannot send headers.
import {
  createStreamTicket,
  createTimeEntry,
  type EventRead,
  login,
  refresh,
  type TimeEntryRead,
  updateTimeEntry,
} from '../generated/ts';
import { client } from '../generated/ts/client.gen';
import { etagOf, ok } from '../ts/answers';

let accessToken = '';
let entry: { value: TimeEntryRead; etag: string } | null = null;
let live: EventSource | null = null;
const apiUrl = new URLSearchParams(location.search).get('api') ?? '';

client.setConfig({
  baseUrl: apiUrl,
  credentials: 'include',
  auth: () => accessToken,
});

const status = document.querySelector<HTMLOutputElement>('#status')!;

function on(selector: string, event: string, action: (fields: FormData) => Promise<string>): void {
  document.querySelector(selector)!.addEventListener(event, (submitted) => {
    submitted.preventDefault();
    const form = submitted.target instanceof HTMLFormElement ? submitted.target : undefined;
    status.value = '…';
    action(new FormData(form)).then(
      (message) => (status.value = message),
      (failure: unknown) => (status.value = `failed: ${String(failure)}`),
    );
  });
}

on('#sign-in', 'submit', async (fields) => {
  const body = { username: String(fields.get('email')), password: String(fields.get('password')) };
  accessToken = (await ok(login({ body }), 200, 'sign in')).data.access_token;
  return 'signed in';
});

on('#refresh', 'click', async () => {
  // No body: the API takes the refresh token from its cookie.
  const renewed = await ok(refresh(), 200, 'refresh');
  accessToken = renewed.data.access_token;
  return 'session renewed';
});

on('#new-entry', 'submit', async (fields) => {
  const end = new Date();
  const created = await ok(
    createTimeEntry({
      path: { workspace_id: String(fields.get('workspace')) },
      body: {
        start_at: new Date(end.getTime() - 1_800_000).toISOString(),
        end_at: end.toISOString(),
        description: String(fields.get('description')),
      },
    }),
    201,
    'create an entry',
  );
  entry = { value: created.data, etag: etagOf(created.response) };
  return `entry ${entry.value.id} saved`;
});

on('#edit-entry', 'submit', async (fields) => {
  if (entry === null) {
    return 'no entry to edit';
  }
  const answer = await updateTimeEntry({
    path: { workspace_id: entry.value.workspace_id, entry_id: entry.value.id },
    body: { description: String(fields.get('description')) },
    headers: { 'If-Match': entry.etag },
  });
  if (answer.error !== undefined) {
    return `refused ${answer.error.status}: ${answer.error.title}`;
  }
  const saved = await ok(Promise.resolve(answer), 200, 'save the entry');
  entry = { value: saved.data, etag: etagOf(saved.response) };
  return `entry saved as "${entry.value.description}"`;
});

on('#follow', 'submit', async (fields) => {
  const workspaceId = String(fields.get('workspace'));
  const path = { workspace_id: workspaceId };
  const { ticket } = (await ok(createStreamTicket({ path }), 201, 'ask for a stream ticket')).data;
  live?.close();
  const stream = new EventSource(
    `${apiUrl}/api/v1/workspaces/${workspaceId}/events/stream?${new URLSearchParams({ ticket })}`,
  );
  live = stream;
  const list = document.querySelector<HTMLUListElement>('#live')!;
  stream.addEventListener('time_entry.created', (message) => {
    const event = JSON.parse(message.data) as EventRead;
    const created = event.data['object'] as Partial<TimeEntryRead>;
    const item = document.createElement('li');
    item.dataset.sequence = message.lastEventId;
    item.textContent = created.description ?? '';
    list.append(item);
  });
  return new Promise((resolve, reject) => {
    stream.onopen = () => resolve('following');
    stream.onerror = () => {
      stream.close();
      reject(new Error('the event stream failed'));
    };
  });
});
