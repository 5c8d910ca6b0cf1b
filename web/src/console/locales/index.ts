import type { Dict, Locale } from '../../shared/i18n';
import { en } from './en';
import { ru } from './ru';
import { uk } from './uk';
import { pl } from './pl';

export const dicts: Record<Locale, Dict> = { en, ru, uk, pl };
