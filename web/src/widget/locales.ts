import type { Entry, Locale } from '../shared/i18n';
import { en } from './locales/en';

// English ships inside the widget; other languages are separate chunks fetched on demand,
// so a visitor downloads one language, not four.
export { en };

/** Every key the widget may translate: English defines them, the others must match. */
export type Key = keyof typeof en;
export type Messages = Record<Key, Entry>;

export function isKey(k: string): k is Key {
  return Object.hasOwn(en, k);
}

export async function loadDict(locale: Locale): Promise<Messages> {
  switch (locale) {
    case 'ru':
      return (await import('./locales/ru')).ru;
    case 'uk':
      return (await import('./locales/uk')).uk;
    case 'pl':
      return (await import('./locales/pl')).pl;
    default:
      return en;
  }
}
