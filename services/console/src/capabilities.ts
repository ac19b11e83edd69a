// What the console shows a role: pages and actions, derived from the permissions of libs/auth (so the
// console never offers what the services would refuse). The services decide anyway: this only hides what
// would fail.
//
// Decision: operations do not see money (balances, margins, revenue, settlement): their role holds none of
// balances.read, rates.read or settlement.read, and the console follows the role table.
import { hasPermission, type Permission, type Role } from '@smshub/auth';

export const PAGES = [
  'overview',
  'connectors',
  'messages',
  'accounts',
  'routing',
  'settlement',
  'deadletters',
] as const;
export type Page = (typeof PAGES)[number];

export const ACTIONS = [
  'connectors.toggle',
  'routing.edit',
  'accounts.topup',
  'accounts.credit',
  'money.read',
  'deadletters.replay',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Roles that may sign in to the console (a customer token is refused: it is the customer API's). */
export const CONSOLE_ROLES: readonly Role[] = ['admin', 'operations', 'finance'];

const PAGE_NEEDS: Record<Page, Permission[]> = {
  overview: ['accounts.read'],
  connectors: ['config.read'],
  messages: ['messages.read'],
  accounts: ['accounts.read'],
  routing: ['config.read'],
  settlement: ['settlement.read'],
  deadletters: ['deadletters.read'],
};

const ACTION_NEEDS: Record<Action, Permission[]> = {
  'connectors.toggle': ['config.write'],
  'routing.edit': ['config.write'],
  'accounts.topup': ['balances.write'],
  'accounts.credit': ['balances.write'],
  'money.read': ['balances.read'],
  'deadletters.replay': ['deadletters.replay'],
};

export interface Capabilities {
  role: Role;
  pages: Page[];
  actions: Action[];
}

export function capabilitiesOf(role: Role): Capabilities {
  const all = (ps: Permission[]) => ps.every((p) => hasPermission(role, p));
  return {
    role,
    pages: PAGES.filter((p) => all(PAGE_NEEDS[p])),
    actions: ACTIONS.filter((a) => all(ACTION_NEEDS[a])),
  };
}
