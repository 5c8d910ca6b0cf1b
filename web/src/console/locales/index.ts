import type { Entry, Locale } from '../../shared/i18n';
import { en } from './en';
import { ru } from './ru';
import { uk } from './uk';
import { pl } from './pl';
import { tickets_en } from './tickets-en';
import { tickets_ru } from './tickets-ru';
import { tickets_uk } from './tickets-uk';
import { tickets_pl } from './tickets-pl';
import { mail_en } from './mail-en';
import { mail_ru } from './mail-ru';
import { mail_uk } from './mail-uk';
import { mail_pl } from './mail-pl';
import { routing_en } from './routing-en';
import { routing_ru } from './routing-ru';
import { routing_uk } from './routing-uk';
import { routing_pl } from './routing-pl';
import { newcomer_en } from './newcomer-en';
import { newcomer_ru } from './newcomer-ru';
import { newcomer_uk } from './newcomer-uk';
import { newcomer_pl } from './newcomer-pl';

/** Every key the console may translate: English defines them, the others must match. */
export type Key = keyof typeof en | keyof typeof tickets_en | keyof typeof mail_en | keyof typeof routing_en | keyof typeof newcomer_en;

export const dicts: Record<Locale, Record<Key, Entry>> = {
  en: { ...en, ...tickets_en, ...mail_en, ...routing_en, ...newcomer_en },
  ru: { ...ru, ...tickets_ru, ...mail_ru, ...routing_ru, ...newcomer_ru },
  uk: { ...uk, ...tickets_uk, ...mail_uk, ...routing_uk, ...newcomer_uk },
  pl: { ...pl, ...tickets_pl, ...mail_pl, ...routing_pl, ...newcomer_pl },
};

/** For keys built at run time from server data (event codes, error codes). */
export function isKey(k: string): k is Key {
  return Object.hasOwn(dicts.en, k);
}
