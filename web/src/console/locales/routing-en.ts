import type { Dict } from '../../shared/i18n';

// Strings of routing: the status switch, its banner, the routing settings.
export const routing_en = {
  'routing.status': "My status",
  'routing.status_hotkey': "Alt+S switches between accepting and not accepting chats",
  'routing.status.accepting': "Accepting chats",
  'routing.status.not_accepting': "Not accepting chats",
  'routing.status.offline': "Offline",
  'routing.banner_not_accepting': "You are not accepting new chats. Your current chats continue.",
  'routing.banner_offline': "You are offline: no new chats reach you.",
} satisfies Dict;
