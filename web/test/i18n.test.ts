import { describe, expect, it } from 'vitest';
import { detectLocale, format, LOCALES, placeholders, translate, type Dict, type Locale } from '../src/shared/i18n';
import { dicts } from '../src/console/locales/index';
import { en as wEn } from '../src/widget/locales/en';
import { ru as wRu } from '../src/widget/locales/ru';
import { uk as wUk } from '../src/widget/locales/uk';
import { pl as wPl } from '../src/widget/locales/pl';

const widgetDicts = { en: wEn, ru: wRu, uk: wUk, pl: wPl };
// Looked up by run-time strings below, so seen as plain dictionaries here.
const consoleDicts: Record<Locale, Dict> = dicts;
const widgetPlain: Record<Locale, Dict> = widgetDicts;

/** Every code src/error.rs (Kind::code) and the socket (docs/protocol.md "Errors") emit. */
const SERVER_CODES = [
  'invalid_json', 'invalid_input', 'unknown_field', 'unauthenticated', 'invalid_credentials', 'forbidden',
  'bad_origin', 'not_found', 'method_not_allowed', 'conflict', 'too_large', 'unsupported_media_type', 'rate_limited', 'unavailable',
  'internal', 'unknown_type', 'invalid_frame', 'unsupported', 'unsupported_version', 'hello_required', 'link_expired',
  'agent_full', 'agent_unavailable', 'not_in_department',
  'banned', 'tag_required',
  'prechat_required',
];

describe('server error codes', () => {
  it.each(LOCALES)('the console says every code in %s', (locale) => {
    for (const code of SERVER_CODES) expect(consoleDicts[locale][`error.${code}`], `${locale} ${code}`).toBeTruthy();
  });
});

describe.each([
  ['console', consoleDicts],
  ['widget', widgetPlain],
])('%s dictionaries', (_, d) => {
  const keys = Object.keys(d.en).sort();
  it.each(LOCALES)('%s has every key, non-empty, with the same placeholders', (locale) => {
    const dict = d[locale];
    expect(Object.keys(dict).sort()).toEqual(keys);
    for (const k of keys) {
      const v = dict[k];
      if (typeof v === 'string') expect(v.trim(), `${locale} ${k}`).not.toBe('');
      expect(placeholders(v), `${locale} ${k}`).toEqual(placeholders(d.en[k]));
    }
  });
  it('non-English dictionaries are actually translated', () => {
    for (const locale of LOCALES.filter((l) => l !== 'en')) {
      // Words that are the same in that language (Polish "Tablet"), and lines that are only
      // placeholders and punctuation ("{name} — {status}"), are not untranslated.
      const same = keys.filter(
        (k) =>
          d[locale][k] === d.en[k] &&
          !/^(Email|Menu|Emoji|E-mail|DNS|TLS|Tablet)$/.test(String(d.en[k])) &&
          /\p{L}/u.test(String(d.en[k]).replace(/\{\w+\}/g, '')),
      );
      expect(same.length, `${locale}: ${same.join(', ')}`).toBeLessThan(3);
    }
  });
});

describe('translate', () => {
  const plural: Record<'en' | 'ru' | 'uk' | 'pl', Dict> = {
    en: { chats: { one: '{count} chat', other: '{count} chats' } },
    ru: { chats: { one: '{count} чат', few: '{count} чата', many: '{count} чатов', other: '{count} чата' } },
    uk: { chats: { one: '{count} чат', few: '{count} чати', many: '{count} чатів', other: '{count} чату' } },
    pl: { chats: { one: '{count} czat', few: '{count} czaty', many: '{count} czatów', other: '{count} czatu' } },
  };
  it.each([
    ['en', 1, '1 chat'], ['en', 5, '5 chats'],
    ['ru', 1, '1 чат'], ['ru', 3, '3 чата'], ['ru', 5, '5 чатов'], ['ru', 21, '21 чат'], ['ru', 11, '11 чатов'],
    ['uk', 2, '2 чати'], ['uk', 12, '12 чатів'],
    ['pl', 1, '1 czat'], ['pl', 4, '4 czaty'], ['pl', 5, '5 czatów'], ['pl', 22, '22 czaty'],
  ] as const)('%s %i', (locale, n, want) => {
    expect(translate(plural, locale, 'chats', { count: n })).toBe(want);
  });
  it('falls back to English, then to the key', () => {
    const d = { en: { a: 'A' }, ru: {}, uk: {}, pl: {} };
    expect(translate(d, 'ru', 'a')).toBe('A');
    expect(translate(d, 'ru', 'missing.key')).toBe('missing.key');
  });
  it('leaves unknown placeholders visible', () => {
    expect(format('Hi {name} {x}', { name: 'Ola' })).toBe('Hi Ola {x}');
  });
  it.each([
    [['pl-PL', 'en'], 'pl'],
    [['de-DE', 'uk'], 'uk'],
    [['fr'], 'en'],
    [[], 'en'],
    [['RU'], 'ru'],
  ] as const)('detects %j → %s', (prefs, want) => {
    expect(detectLocale(prefs)).toBe(want);
  });
});
