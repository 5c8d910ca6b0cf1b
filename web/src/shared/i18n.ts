// Translation lookup, plural forms and language detection. The reactive "current language"
// lives in console/state.svelte.ts (and the widget's own component); this file is plain so it
// can be unit-tested.

export const LOCALES = ['en', 'ru', 'uk', 'pl'] as const;
export type Locale = (typeof LOCALES)[number];

export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский', uk: 'Українська', pl: 'Polski' };

/** A plain string, or plural forms chosen by Intl.PluralRules (`{count}` is substituted). */
export type Entry = string | { one: string; few?: string; many?: string; other: string };
export type Dict = Record<string, Entry>;

export function isLocale(x: unknown): x is Locale {
  return typeof x === 'string' && (LOCALES as readonly string[]).includes(x);
}

/** First supported language among the browser's preferences (`pl-PL` → `pl`), else English. */
export function detectLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return 'en';
}

const rules = new Map<string, Intl.PluralRules>();
function pluralRules(locale: Locale): Intl.PluralRules {
  let r = rules.get(locale);
  if (!r) rules.set(locale, (r = new Intl.PluralRules(locale)));
  return r;
}

export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function translate(dicts: Record<Locale, Dict>, locale: Locale, key: string, params: Record<string, string | number> = {}): string {
  const entry = dicts[locale]?.[key] ?? dicts.en[key];
  if (entry === undefined) return key;
  if (typeof entry === 'string') return format(entry, params);
  const n = Number(params.count ?? 0);
  const form = pluralRules(locale).select(n) as 'one' | 'few' | 'many' | 'other';
  return format(entry[form] ?? entry.other, params);
}

/** Placeholder names used by an entry (all forms), for consistency checks. */
export function placeholders(entry: Entry): string[] {
  const texts = typeof entry === 'string' ? [entry] : Object.values(entry).filter((v): v is string => typeof v === 'string');
  const names = new Set<string>();
  for (const t of texts) for (const m of t.matchAll(/\{(\w+)\}/g)) names.add(m[1]);
  return [...names].sort();
}
