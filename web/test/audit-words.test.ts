// Issue 14: the Audit log says each action in plain words in every language. The list is every
// action src/ writes with audit::store::record (grep '"[a-z]*\.[a-z_]*"' next to record calls).
import { describe, expect, it } from 'vitest';
import { LOCALES, type Dict } from '../src/shared/i18n';
import { dicts } from '../src/console/locales/index';

const ACTIONS = [
  'agent.create', 'agent.update', 'agent.role', 'agent.disable', 'agent.enable', 'agent.invite', 'agent.password',
  'agent.chat_limits', 'agent.totp_enable', 'agent.totp_disable', 'agent.totp_reset', 'agent.totp_recovery_codes',
  'agent.totp_recovery_used', 'department.create', 'department.update', 'department.delete', 'department.members',
  'canned.create', 'canned.update', 'canned.delete', 'contact.email', 'ticket.requester', 'ticket.merge', 'token.create',
  'token.delete', 'settings.chat', 'settings.routing', 'settings.security', 'settings.mail', 'mail.retry', 'database.restore',
];
const plain: Record<string, Dict> = dicts;

describe('audit actions in plain words', () => {
  it.each(LOCALES)('%s names every action', (locale) => {
    const missing = ACTIONS.filter((a) => !plain[locale][`audit.a.${a}`]);
    expect(missing).toEqual([]);
  });
});
