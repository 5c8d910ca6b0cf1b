import type { Entry } from '../../shared/i18n';
import type { routing_en } from './routing-en';

export const routing_pl = {
  'routing.status': "Mój status",
  'routing.status_hotkey': "Alt+S przełącza przyjmowanie czatów",
  'routing.status.accepting': "Przyjmuję czaty",
  'routing.status.not_accepting': "Nie przyjmuję czatów",
  'routing.status.offline': "Offline",
  'routing.banner_not_accepting': "Nie przyjmujesz nowych czatów. Bieżące czaty trwają.",
  'routing.banner_offline': "Jesteś offline: nowe czaty do ciebie nie trafiają.",
} satisfies Record<keyof typeof routing_en, Entry>;
