import type { Entry } from '../../shared/i18n';
import type { team_en } from './team-en';

export const team_ru = {
  'team.nav': 'Чат команды',
  'team.rooms': 'Комнаты команды',
  'team.departments': 'Отделы',
  'team.no_departments': 'Вы пока не состоите ни в одном отделе.',
  'team.direct': 'Личные сообщения',
  'team.new_direct': 'Написать коллеге',
  'team.open_direct': 'Открыть',
  'team.older': 'Показать более ранние сообщения',
  'team.messages': 'Сообщения',
  'team.typing': '{names} печатает…',
  'team.message_to': 'Сообщение для: {name}',
  'team.type_here': 'Напишите команде (Enter — отправить, Shift+Enter — новая строка)',
  'team.mentions_hint': '#123 — ссылка на тикет 123, «chat 45» — на чат 45',
  'team.pick': 'Выберите комнату или коллегу.',
  'team.unread': { one: '{count} непрочитанное сообщение', few: '{count} непрочитанных сообщения', many: '{count} непрочитанных сообщений', other: '{count} непрочитанного сообщения' },
} satisfies Record<keyof typeof team_en, Entry>;
