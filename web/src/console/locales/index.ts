import type { Dict, Locale } from '../../shared/i18n';
import { en } from './en';
import { ru } from './ru';
import { uk } from './uk';
import { pl } from './pl';
import { tickets_en } from './tickets-en';
import { tickets_ru } from './tickets-ru';
import { tickets_uk } from './tickets-uk';
import { tickets_pl } from './tickets-pl';

export const dicts: Record<Locale, Dict> = {
  en: { ...en, ...tickets_en },
  ru: { ...ru, ...tickets_ru },
  uk: { ...uk, ...tickets_uk },
  pl: { ...pl, ...tickets_pl },
};
