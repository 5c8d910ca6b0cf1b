// A small set covering what support chats use; no emoji library is worth its weight here.
export const EMOJI = ['😊', '🙂', '😀', '😉', '👍', '👌', '🙏', '👋', '❤️', '🎉', '✅', '❌', '🤔', '😅', '😢', '😮', '🚚', '📦', '💳', '⏰'];
