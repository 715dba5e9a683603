// Checks over the answers of the generated SDK, shared by the Node scenario and the browser app.
// `E extends Problem` makes the type checker refuse any operation whose errors are not typed
// as the Problem schema.
import { getMyTimer, type Problem, type TimeEntryRead } from '../generated/ts';

type Answer<T, E> = ({ data: T; error: undefined } | { data: undefined; error: E }) & {
  response?: Response;
};

export async function ok<T, E extends Problem>(
  call: Promise<Answer<T, E>>,
  status: number,
  what: string,
): Promise<{ data: Exclude<T, undefined>; response: Response }> {
  const answer = await call;
  if (answer.error !== undefined || answer.response?.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${answer.response?.status}: ${JSON.stringify(answer.error)}`,
    );
  }
  return { data: answer.data as Exclude<T, undefined>, response: answer.response };
}

export async function problem<T, E extends Problem>(
  call: Promise<Answer<T, E>>,
  status: number,
  what: string,
): Promise<Problem> {
  const answer = await call;
  const contentType = answer.response?.headers.get('content-type') ?? '';
  if (answer.error === undefined || answer.response?.status !== status) {
    throw new Error(`${what}: expected a ${status} Problem, got ${answer.response?.status}`);
  }
  const error: Problem = answer.error;
  if (error.status !== status || !error.title || !contentType.startsWith('application/problem+json')) {
    throw new Error(`${what}: not a Problem: ${contentType} ${JSON.stringify(error)}`);
  }
  return error;
}

// Where an entity's ETag is read, and how "no timer is running" (a 204) is told.

export function etagOf(response: Response): string {
  const etag = response.headers.get('etag');
  if (etag === null) {
    throw new Error(`no ETag on ${response.url} (is it exposed to CORS?)`);
  }
  return etag;
}

export async function runningTimer(): Promise<TimeEntryRead | null> {
  const answer = await getMyTimer();
  if (answer.response?.status === 204) {
    return null;
  }
  const { data } = await ok(Promise.resolve(answer), 200, 'read the timer');
  // The 200 answer's type also admits the 204's empty body; a 200 always carries the entry.
  if (!data) {
    throw new Error('read the timer: a 200 without its entry');
  }
  return data;
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(message);
  }
}
