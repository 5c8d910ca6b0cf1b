import type { Entry, Locale } from '../../shared/i18n';
import { en } from './en';
import { ru } from './ru';
import { uk } from './uk';
import { pl } from './pl';
import { tickets_en } from './tickets-en';
import { tickets_ru } from './tickets-ru';
import { tickets_uk } from './tickets-uk';
import { tickets_pl } from './tickets-pl';
import { admin_en } from './admin-en';
import { admin_ru } from './admin-ru';
import { admin_uk } from './admin-uk';
import { admin_pl } from './admin-pl';
import { mail_en } from './mail-en';
import { mail_ru } from './mail-ru';
import { mail_uk } from './mail-uk';
import { mail_pl } from './mail-pl';
import { routing_en } from './routing-en';
import { routing_ru } from './routing-ru';
import { routing_uk } from './routing-uk';
import { routing_pl } from './routing-pl';
import { team_en } from './team-en';
import { team_ru } from './team-ru';
import { team_uk } from './team-uk';
import { team_pl } from './team-pl';
import { bans_en } from './bans-en';
import { bans_ru } from './bans-ru';
import { bans_uk } from './bans-uk';
import { bans_pl } from './bans-pl';
import { visitors_en } from './visitors-en';
import { visitors_ru } from './visitors-ru';
import { visitors_uk } from './visitors-uk';
import { visitors_pl } from './visitors-pl';
import { widget_en } from './widget-en';
import { widget_ru } from './widget-ru';
import { widget_uk } from './widget-uk';
import { widget_pl } from './widget-pl';
import { reports_en } from './reports-en';
import { reports_ru } from './reports-ru';
import { reports_uk } from './reports-uk';
import { reports_pl } from './reports-pl';
import { newcomer_en } from './newcomer-en';
import { newcomer_ru } from './newcomer-ru';
import { newcomer_uk } from './newcomer-uk';
import { newcomer_pl } from './newcomer-pl';

/** Every key the console may translate: English defines them, the others must match. */
export type Key = keyof typeof en | keyof typeof tickets_en | keyof typeof admin_en | keyof typeof mail_en | keyof typeof routing_en | keyof typeof team_en | keyof typeof bans_en | keyof typeof visitors_en | keyof typeof widget_en | keyof typeof reports_en | keyof typeof newcomer_en;

export const dicts: Record<Locale, Record<Key, Entry>> = {
  en: { ...en, ...tickets_en, ...admin_en, ...mail_en, ...routing_en, ...team_en, ...bans_en, ...visitors_en, ...widget_en, ...reports_en, ...newcomer_en },
  ru: { ...ru, ...tickets_ru, ...admin_ru, ...mail_ru, ...routing_ru, ...team_ru, ...bans_ru, ...visitors_ru, ...widget_ru, ...reports_ru, ...newcomer_ru },
  uk: { ...uk, ...tickets_uk, ...admin_uk, ...mail_uk, ...routing_uk, ...team_uk, ...bans_uk, ...visitors_uk, ...widget_uk, ...reports_uk, ...newcomer_uk },
  pl: { ...pl, ...tickets_pl, ...admin_pl, ...mail_pl, ...routing_pl, ...team_pl, ...bans_pl, ...visitors_pl, ...widget_pl, ...reports_pl, ...newcomer_pl },
};

/** For keys built at run time from server data (event codes, error codes). */
export function isKey(k: string): k is Key {
  return Object.hasOwn(dicts.en, k);
}
