import type { Dict } from '../../shared/i18n';

// Strings of the ticket desk pages (kept apart from ru.ts so both can grow independently).
export const tickets_ru: Dict = {};
