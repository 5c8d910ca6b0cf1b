// Team setup, in-app dialogs, notifications (issue 14).
export const newcomer_en = {
  'common.cancel': 'Cancel',
  'dialog.continue': 'Continue',
  'dialog.revoke': 'Revoke',
  'team.status': 'Status',
  'team.role_of': 'Role of {name}',
  'team.limit_of': 'Chat limit of {name}',
  'team.departments_of': 'Departments of {name}',
  'team.no_department': 'No department',
  'team.password_set': 'New password set for {name}.',
  'team.members': 'Members',
  'team.members_of': 'Members of {name}',
  'team.no_members': 'No members yet',
  'team.no_agents': 'No agents yet.',
  'team.save_members': 'Save members',
};
