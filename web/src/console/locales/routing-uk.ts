import type { Entry } from '../../shared/i18n';
import type { routing_en } from './routing-en';

export const routing_uk = {
  'routing.status': "Мій статус",
  'routing.status_hotkey': "Alt+S перемикає приймання чатів",
  'routing.status.accepting': "Приймаю чати",
  'routing.status.not_accepting': "Не приймаю чати",
  'routing.status.offline': "Не в мережі",
  'routing.banner_not_accepting': "Ви не приймаєте нові чати. Поточні чати тривають.",
  'routing.banner_offline': "Ви не в мережі: нові чати до вас не надходять.",
} satisfies Record<keyof typeof routing_en, Entry>;
