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
} satisfies Record<keyof typeof newcomer_en, Entry>;
