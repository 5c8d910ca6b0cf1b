import { afterEach, describe, expect, it } from 'vitest';
import { api, ApiError, parseError, qs, setFetch } from '../src/shared/api';

const respond = (status: number, body: string, headers: Record<string, string> = {}) =>
  setFetch(async () => new Response(body, { status, headers }));

afterEach(() => setFetch((...a) => fetch(...a)));

describe('api client', () => {
  it('returns parsed JSON', async () => {
    respond(200, '{"a":1}', { 'content-type': 'application/json' });
    expect(await api.get('/x')).toEqual({ a: 1 });
  });
  it('returns undefined for 204', async () => {
    setFetch(async () => new Response(null, { status: 204 }));
    expect(await api.del('/x')).toBeUndefined();
  });
  it('turns the error shape into ApiError with retry-after', async () => {
    respond(429, '{"error":{"code":"rate_limited","message":"slow down"}}', { 'retry-after': '42' });
    const e = (await api.post('/x', {}).catch((err: unknown) => err)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message, e.retryAfter]).toEqual([429, 'rate_limited', 'slow down', 42]);
  });
  it.each([
    ['<html>Bad gateway</html>', 502],
    ['', 500],
    ['{"error":"flat"}', 400],
    ['{"error":{"code":5}}', 400],
  ])('a malformed error body %j still gives a clear ApiError', async (body, status) => {
    const e = await parseError(new Response(body, { status, statusText: 'X' }));
    expect(e.code).toBe(`http_${status}`);
    expect(e.status).toBe(status);
  });
  it('reports an unreadable success body', async () => {
    respond(200, 'not json');
    await expect(api.get('/x')).rejects.toMatchObject({ code: 'bad_response' });
  });
  it('reports network failures', async () => {
    setFetch(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(api.get('/x')).rejects.toMatchObject({ code: 'network', status: 0 });
  });
  it('builds query strings without empty values', () => {
    expect(qs({ a: 1, b: '', c: null, d: undefined, e: 'x y' })).toBe('?a=1&e=x+y');
    expect(qs({})).toBe('');
  });
});
