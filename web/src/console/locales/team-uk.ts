import type { Entry } from '../../shared/i18n';
import type { team_en } from './team-en';

export const team_uk = {
  'team.nav': 'Чат команди',
  'team.rooms': 'Кімнати команди',
  'team.departments': 'Відділи',
  'team.no_departments': 'Ви поки не входите до жодного відділу.',
  'team.direct': 'Особисті повідомлення',
  'team.new_direct': 'Написати колезі',
  'team.open_direct': 'Відкрити',
  'team.older': 'Показати давніші повідомлення',
  'team.messages': 'Повідомлення',
  'team.typing': '{names} друкує…',
  'team.message_to': 'Повідомлення для: {name}',
  'team.type_here': 'Напишіть команді (Enter — надіслати, Shift+Enter — новий рядок)',
  'team.mentions_hint': '#123 — посилання на тікет 123, «chat 45» — на чат 45',
  'team.pick': 'Виберіть кімнату або колегу.',
  'team.unread': { one: '{count} непрочитане повідомлення', few: '{count} непрочитані повідомлення', many: '{count} непрочитаних повідомлень', other: '{count} непрочитаного повідомлення' },
} satisfies Record<keyof typeof team_en, Entry>;
