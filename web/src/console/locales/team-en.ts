import type { Dict } from '../../shared/i18n';

// Strings of the internal chat between agents (Team chat page).
export const team_en = {
  'team.nav': 'Team chat',
  'team.rooms': 'Team rooms',
  'team.departments': 'Departments',
  'team.no_departments': 'You are in no department yet.',
  'team.direct': 'Direct messages',
  'team.new_direct': 'Message a colleague',
  'team.open_direct': 'Open',
  'team.older': 'Show older messages',
  'team.messages': 'Messages',
  'team.typing': '{names} typing…',
  'team.message_to': 'Message to {name}',
  'team.type_here': 'Write to your team (Enter sends, Shift+Enter adds a line)',
  'team.mentions_hint': '#123 links ticket 123, “chat 45” links chat 45',
  'team.pick': 'Pick a room or a colleague.',
  'team.unread': { one: '{count} unread message', other: '{count} unread messages' },
} satisfies Dict;
