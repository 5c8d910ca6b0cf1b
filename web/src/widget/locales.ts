import type { Dict, Locale } from '../shared/i18n';
import { en } from './locales/en';

// English ships inside the widget; other languages are separate chunks fetched on demand,
// so a visitor downloads one language, not four.
export { en };

export async function loadDict(locale: Locale): Promise<Dict> {
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
