import type { Entry } from '../../shared/i18n';
import type { newcomer_en } from './newcomer-en';

export const newcomer_pl = {
  'common.cancel': 'Anuluj',
  'dialog.continue': 'Kontynuuj',
  'dialog.revoke': 'Unieważnij',
  'team.status': 'Status',
  'team.role_of': 'Rola: {name}',
  'team.limit_of': 'Limit czatów: {name}',
  'team.departments_of': 'Działy: {name}',
  'team.no_department': 'Bez działu',
  'team.password_set': 'Ustawiono nowe hasło dla {name}.',
  'team.members': 'Członkowie',
  'team.members_of': 'Członkowie działu „{name}”',
  'team.no_members': 'Jeszcze bez członków',
  'team.no_agents': 'Nie ma jeszcze agentów.',
  'team.save_members': 'Zapisz członków',
  'notify.title': { one: '{count} nowy', few: '{count} nowe', many: '{count} nowych', other: '{count} nowych' },
  'notify.assigned': 'Nowy czat dla Ciebie',
  'notify.open': 'Otwórz',
  'notify.settings': 'Powiadomienia',
  'notify.help': 'Jak konsola informuje o nowej pracy, gdy jesteś na innej stronie.',
  'notify.sound': 'Sygnał dźwiękowy',
  'notify.new_chat': 'Nowe czaty (w kolejce lub przydzielone mnie)',
  'notify.new_message': 'Nowe wiadomości w moich czatach',
  'notify.desktop': 'Powiadomienia na pulpicie, gdy konsola jest w tle',
  'notify.blocked': 'Przeglądarka blokuje powiadomienia dla tej strony: zezwól na nie w ustawieniach strony.',
} satisfies Record<keyof typeof newcomer_en, Entry>;
