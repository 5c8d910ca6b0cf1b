import type { Entry } from '../../shared/i18n';
import type { newcomer_en } from './newcomer-en';

export const newcomer_uk = {
  'common.cancel': 'Скасувати',
  'dialog.continue': 'Продовжити',
  'dialog.revoke': 'Відкликати',
  'team.status': 'Статус',
  'team.role_of': 'Роль: {name}',
  'team.limit_of': 'Ліміт чатів: {name}',
  'team.departments_of': 'Відділи: {name}',
  'team.no_department': 'Без відділу',
  'team.password_set': 'Новий пароль для {name} встановлено.',
  'team.members': 'Учасники',
  'team.members_of': 'Учасники відділу «{name}»',
  'team.no_members': 'Поки без учасників',
  'team.no_agents': 'Операторів поки немає.',
  'team.save_members': 'Зберегти учасників',
  'notify.title': { one: '{count} нове', few: '{count} нових', many: '{count} нових', other: '{count} нових' },
  'notify.assigned': 'Вам призначено новий чат',
  'notify.open': 'Відкрити',
  'notify.settings': 'Сповіщення',
  'notify.help': 'Як консоль повідомляє про нову роботу, поки ви на іншій сторінці.',
  'notify.sound': 'Звуковий сигнал',
  'notify.new_chat': 'Нові чати (у черзі або призначені мені)',
  'notify.new_message': 'Нові повідомлення в моїх чатах',
  'notify.desktop': 'Сповіщення на робочому столі, коли консоль у фоні',
  'notify.blocked': 'Браузер забороняє сповіщення для цього сайту: дозвольте їх у налаштуваннях сайту.',
} satisfies Record<keyof typeof newcomer_en, Entry>;
