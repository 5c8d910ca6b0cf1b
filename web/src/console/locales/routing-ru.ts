import type { Entry } from '../../shared/i18n';
import type { routing_en } from './routing-en';

export const routing_ru = {
  'routing.status': "Мой статус",
  'routing.status_hotkey': "Alt+S переключает приём чатов",
  'routing.status.accepting': "Принимаю чаты",
  'routing.status.not_accepting': "Не принимаю чаты",
  'routing.status.offline': "Не в сети",
  'routing.banner_not_accepting': "Вы не принимаете новые чаты. Текущие чаты продолжаются.",
  'routing.banner_offline': "Вы не в сети: новые чаты к вам не поступают.",
} satisfies Record<keyof typeof routing_en, Entry>;
