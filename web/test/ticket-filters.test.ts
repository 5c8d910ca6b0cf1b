import { describe, expect, it } from 'vitest';
import { builtinFilters, emptyFilters, fileSize, filtersToQuery, localDateTime, parseAddresses, sameFilters, storedToFilters, type Filters } from '../src/console/tickets/types';

const f = (over: Partial<Filters>): Filters => ({ ...emptyFilters(), ...over });

describe('ticket list filters', () => {
  it('leave out what is not set, and make the end date inclusive', () => {
    expect(filtersToQuery(f({ status: 'open', agent: 'me', tag: ' vip ', q: '', from: '2024-03-01', to: '2024-03-31' }))).toEqual({
      status: 'open',
      department_id: undefined,
      agent: 'me',
      tag: 'vip',
      customer: undefined,
      q: undefined,
      from: new Date(2024, 2, 1).getTime(),
      to: new Date(2024, 3, 1).getTime(),
      contact_id: undefined,
    });
  });

  it.each([
    [{ status: 'open', agent_id: 7 }, 7, f({ status: 'open', agent: 'me' })],
    [{ status: 'open', agent_id: 9 }, 7, f({ status: 'open', agent: '9' })],
    [{ status: 'pending', unassigned: true, department_id: 3 }, 7, f({ status: 'pending', agent: 'none', department_id: '3' })],
    [{ status: 'bogus', tag: 'vip', q: 'refund' }, 7, f({ tag: 'vip', q: 'refund' })],
  ])('a saved view %j becomes the filter bar', (stored, me, want) => {
    expect(storedToFilters(stored, me)).toEqual(want);
  });

  it('dates survive a save and load', () => {
    const bar = f({ from: '2024-03-01', to: '2024-03-31' });
    const q = filtersToQuery(bar);
    expect(storedToFilters({ from: q.from as number, to: q.to as number }, 1)).toEqual(bar);
  });

  it('recognize built-in views', () => {
    expect(sameFilters(builtinFilters('mine'), f({ agent: 'me', status: 'open' }))).toBe(true);
    expect(sameFilters(builtinFilters('mine'), f({ agent: 'me', status: 'open', tag: 'x' }))).toBe(false);
  });
});

describe('composer helpers', () => {
  it.each([
    ['ola@example.pl', ['ola@example.pl']],
    ['Ola <ola@example.pl>, bob@x.com; c@y.org', ['ola@example.pl', 'bob@x.com', 'c@y.org']],
    ['  ', []],
    ['not an address', []],
  ])('addresses in %j', (s, want) => {
    expect(parseAddresses(s)).toEqual(want);
  });
  // Unit names come from the ICU data of the runtime, so only their shape is checked.
  it.each([
    [512, 'en', /^512\sbyte/],
    [83, 'en', /^83\sbytes$/],
    [83, 'ru', /^83\sбайта$/],
    [2048, 'en', /^2\skB$/],
    [2048, 'ru', /^2\s[кК]Б$/],
    [5 * 1024 * 1024 + 200_000, 'pl', /^5,2\sMB$/],
  ])('%i bytes in %s', (n, locale, want) => {
    expect(fileSize(n, locale)).toMatch(want);
  });
  it('reads datetime-local values in local time', () => {
    expect(localDateTime('2030-01-02T09:30')).toBe(new Date(2030, 0, 2, 9, 30).getTime());
    expect(localDateTime('')).toBeNull();
  });
});
