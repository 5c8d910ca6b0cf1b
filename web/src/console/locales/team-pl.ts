import type { Entry } from '../../shared/i18n';
import type { team_en } from './team-en';

export const team_pl = {
  'team.nav': 'Czat zespołu',
  'team.rooms': 'Pokoje zespołu',
  'team.departments': 'Działy',
  'team.no_departments': 'Nie należysz jeszcze do żadnego działu.',
  'team.direct': 'Wiadomości prywatne',
  'team.new_direct': 'Napisz do współpracownika',
  'team.open_direct': 'Otwórz',
  'team.older': 'Pokaż starsze wiadomości',
  'team.messages': 'Wiadomości',
  'team.typing': '{names} pisze…',
  'team.message_to': 'Wiadomość do: {name}',
  'team.type_here': 'Napisz do zespołu (Enter wysyła, Shift+Enter dodaje wiersz)',
  'team.mentions_hint': '#123 to link do zgłoszenia 123, „chat 45” do czatu 45',
  'team.pick': 'Wybierz pokój lub współpracownika.',
  'team.unread': { one: '{count} nieprzeczytana wiadomość', few: '{count} nieprzeczytane wiadomości', many: '{count} nieprzeczytanych wiadomości', other: '{count} nieprzeczytanej wiadomości' },
} satisfies Record<keyof typeof team_en, Entry>;
