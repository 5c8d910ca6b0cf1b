import type { Entry } from '../../shared/i18n';
import type { newcomer_en } from './newcomer-en';

export const newcomer_ru = {
  'common.cancel': 'Отмена',
  'dialog.continue': 'Продолжить',
  'dialog.revoke': 'Отозвать',
  'team.status': 'Статус',
  'team.role_of': 'Роль: {name}',
  'team.limit_of': 'Лимит чатов: {name}',
  'team.departments_of': 'Отделы: {name}',
  'team.no_department': 'Без отдела',
  'team.password_set': 'Новый пароль для {name} установлен.',
  'team.members': 'Участники',
  'team.members_of': 'Участники отдела «{name}»',
  'team.no_members': 'Пока без участников',
  'team.no_agents': 'Операторов пока нет.',
  'team.save_members': 'Сохранить участников',
  'notify.title': { one: '{count} новое', few: '{count} новых', many: '{count} новых', other: '{count} новых' },
  'notify.assigned': 'Вам назначен новый чат',
  'notify.open': 'Открыть',
  'notify.settings': 'Уведомления',
  'notify.help': 'Как консоль сообщает о новой работе, пока вы на другой странице.',
  'notify.sound': 'Звуковой сигнал',
  'notify.new_chat': 'Новые чаты (в очереди или назначенные мне)',
  'notify.new_message': 'Новые сообщения в моих чатах',
  'notify.desktop': 'Уведомления на рабочем столе, когда консоль в фоне',
  'notify.blocked': 'Браузер запрещает уведомления для этого сайта: разрешите их в настройках сайта.',
} satisfies Record<keyof typeof newcomer_en, Entry>;
