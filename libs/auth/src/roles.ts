// Roles, permissions and the table of what every gRPC method needs. A method that is not in METHODS is
// refused by guardService at start-up (and the table test enumerates every service definition), so a new RPC
// cannot go out unprotected by omission. Health checks are not wrapped at all: they carry no data.
//
// customer tokens are scoped to one account: the permission says "may call", the handler then limits the
// call to the token's account (accountScope below).

export const ROLES = ['admin', 'operations', 'finance', 'customer'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  /** Server reflection (the API's schema): any staff role. */
  | 'api.describe'
  /** Accounts (names, states, SMPP settings; never password hashes). */
  | 'accounts.read'
  /** Connectors, routing and firewall rules, number prefixes, ported numbers. */
  | 'config.read'
  /** Every configuration write, SMPP passwords, rate and number imports. */
  | 'config.write'
  /** Sell and buy rates (prices: money). */
  | 'rates.read'
  /** Balances, credit state and top-ups. */
  | 'balances.read'
  /** Top-ups and credit limits. */
  | 'balances.write'
  /** Message timelines and lists (destinations, texts in events). */
  | 'messages.read'
  /** Settlement totals and CSV exports. */
  | 'settlement.read'
  /** Supplier reconciliation. */
  | 'settlement.reconcile'
  /** Listing API tokens (never their secrets). */
  | 'tokens.read'
  /** Creating, expiring and revoking API tokens. */
  | 'tokens.manage'
  /** The audit log. */
  | 'audit.read'
  /** Dead letters of the consumer groups (coordinates, errors, message ids; never message bodies). */
  | 'deadletters.read'
  /** Replaying dead letters into the group that failed them (audited). */
  | 'deadletters.replay'
  /** Subscribers' opt-out lists (phone numbers: staff who run traffic, not finance). */
  | 'optouts.read'
  /** Adding, removing and importing opt-outs. */
  | 'optouts.write'
  /** Delivery and traffic statistics (StatsService); money in them only with rates.read or settlement.read. */
  | 'stats.read'
  /** The hub's live operating state: connectors' sessions, window, TPS and throttling; consumer lag. No money. */
  | 'ops.read'
  /** The caller's own token (WhoAmI): every role. */
  | 'self.read';

/** What each role may do. customer's permissions are limited to its own account by the handlers. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: [
    'api.describe',
    'accounts.read',
    'config.read',
    'config.write',
    'rates.read',
    'balances.read',
    'balances.write',
    'messages.read',
    'settlement.read',
    'settlement.reconcile',
    'tokens.read',
    'tokens.manage',
    'audit.read',
    'deadletters.read',
    'deadletters.replay',
    'stats.read',
    'optouts.read',
    'optouts.write',
    'ops.read',
    'self.read',
  ],
  operations: [
    'api.describe',
    'accounts.read',
    'config.read',
    'messages.read',
    'deadletters.read',
    'deadletters.replay',
    'stats.read',
    'optouts.read',
    'optouts.write',
    'ops.read',
    'self.read',
  ],
  finance: [
    'api.describe',
    'accounts.read',
    'rates.read',
    'balances.read',
    'balances.write',
    'settlement.read',
    'settlement.reconcile',
    'stats.read',
    'ops.read',
    'self.read',
  ],
  customer: ['messages.read', 'settlement.read', 'stats.read', 'self.read'],
};

/** Permissions that change state: calls needing them are audited by admin. */
export const WRITE_PERMISSIONS: ReadonlySet<Permission> = new Set([
  'config.write',
  'balances.write',
  'tokens.manage',
  'deadletters.replay',
  'optouts.write',
]);

const ADMIN = '/smshub.admin.v1.AdminService/';
const CONFIG_KINDS = ['Connector', 'RoutingRule', 'FirewallRule', 'NumberPrefix', 'PortedNumber'];

function crud(kind: string, plural: string, read: Permission): [string, Permission][] {
  return [
    [`${ADMIN}Create${kind}`, 'config.write'],
    [`${ADMIN}Get${kind}`, read],
    [`${ADMIN}List${plural}`, read],
    [`${ADMIN}Update${kind}`, 'config.write'],
    [`${ADMIN}Delete${kind}`, 'config.write'],
  ];
}

const plural = (k: string) => (k.endsWith('x') ? `${k}es` : `${k}s`);

/** Full gRPC path -> the permission it needs. */
export const METHODS: ReadonlyMap<string, Permission> = new Map<string, Permission>([
  ...crud('Account', 'Accounts', 'accounts.read'),
  ...CONFIG_KINDS.flatMap((k) => crud(k, plural(k), 'config.read')),
  ...crud('Rate', 'Rates', 'rates.read'),
  [`${ADMIN}ImportRates`, 'config.write'],
  [`${ADMIN}ImportNumberPrefixes`, 'config.write'],
  [`${ADMIN}ImportPortedNumbers`, 'config.write'],
  [`${ADMIN}SetSmppPassword`, 'config.write'],
  [`${ADMIN}GetBalance`, 'balances.read'],
  [`${ADMIN}ListTopUps`, 'balances.read'],
  [`${ADMIN}CreateTopUp`, 'balances.write'],
  [`${ADMIN}SetCreditLimit`, 'balances.write'],
  [`${ADMIN}CreateToken`, 'tokens.manage'],
  [`${ADMIN}ListTokens`, 'tokens.read'],
  [`${ADMIN}RevokeToken`, 'tokens.manage'],
  [`${ADMIN}SetTokenExpiry`, 'tokens.manage'],
  [`${ADMIN}ListAuditEvents`, 'audit.read'],
  [`${ADMIN}AddOptOut`, 'optouts.write'],
  [`${ADMIN}RemoveOptOut`, 'optouts.write'],
  [`${ADMIN}ImportOptOuts`, 'optouts.write'],
  [`${ADMIN}ListOptOuts`, 'optouts.read'],
  [`${ADMIN}ExportOptOuts`, 'optouts.read'],
  [`${ADMIN}SetOptOutKeywords`, 'config.write'],
  [`${ADMIN}DeleteOptOutKeywords`, 'config.write'],
  [`${ADMIN}ListOptOutKeywords`, 'config.read'],
  [`${ADMIN}SetQuietHours`, 'config.write'],
  [`${ADMIN}DeleteQuietHours`, 'config.write'],
  [`${ADMIN}ListQuietHours`, 'config.read'],
  [`${ADMIN}ListConnectorStates`, 'ops.read'],
  [`${ADMIN}ListConsumerLag`, 'ops.read'],
  [`${ADMIN}WhoAmI`, 'self.read'],
  [`${ADMIN}CreateNumber`, 'config.write'],
  [`${ADMIN}GetNumber`, 'config.read'],
  [`${ADMIN}ListNumbers`, 'config.read'],
  [`${ADMIN}DeleteNumber`, 'config.write'],
  ['/smshub.admin.v1.DeadLetterService/ListDeadLetterGroups', 'deadletters.read'],
  ['/smshub.admin.v1.DeadLetterService/ListDeadLetters', 'deadletters.read'],
  ['/smshub.admin.v1.DeadLetterService/ReplayDeadLetters', 'deadletters.replay'],
  ['/smshub.admin.v1.ProbeService/SetProbeTarget', 'config.write'],
  ['/smshub.admin.v1.ProbeService/ListProbeTargets', 'config.read'],
  ['/smshub.admin.v1.ProbeService/DeleteProbeTarget', 'config.write'],
  ['/smshub.admin.v1.ProbeService/ListProbes', 'config.read'],
  ['/smshub.admin.v1.ProbeService/ClearSuspicion', 'config.write'],
  ['/smshub.messages.v1.MessageService/GetMessage', 'messages.read'],
  ['/smshub.messages.v1.MessageService/ListMessages', 'messages.read'],
  ['/smshub.billing.v1.SettlementService/GetTotals', 'settlement.read'],
  ['/smshub.billing.v1.SettlementService/ExportCsv', 'settlement.read'],
  ['/smshub.billing.v1.SettlementService/CheckReconciliation', 'settlement.reconcile'],
  ['/smshub.webhooks.v1.WebhookService/SetEndpoint', 'config.write'],
  ['/smshub.webhooks.v1.WebhookService/GetEndpoint', 'accounts.read'],
  ['/smshub.webhooks.v1.WebhookService/DeleteEndpoint', 'config.write'],
  ['/smshub.webhooks.v1.WebhookService/RotateSecret', 'config.write'],
  ['/smshub.webhooks.v1.WebhookService/ListAttempts', 'messages.read'],
  ['/smshub.webhooks.v1.WebhookService/Replay', 'config.write'],
  // Ingress (query_sm, cancel_sm, replace_sm of held messages) with the bootstrap admin credential.
  ['/smshub.scheduler.v1.SchedulerService/GetHeld', 'accounts.read'],
  ['/smshub.scheduler.v1.SchedulerService/CancelHeld', 'config.write'],
  ['/smshub.scheduler.v1.SchedulerService/ReplaceHeld', 'config.write'],
  ['/smshub.stats.v1.StatsService/GetSummary', 'stats.read'],
  ['/smshub.stats.v1.StatsService/GetSeries', 'stats.read'],
  ['/smshub.stats.v1.StatsService/GetBreakdown', 'stats.read'],
  // Rule hit counts, the routing dry run and the learnt estimates: routing configuration (prices in them
  // only with rates.read).
  ['/smshub.stats.v1.StatsService/GetRuleHits', 'config.read'],
  ['/smshub.routing.v1.RoutingService/DryRun', 'config.read'],
  ['/smshub.routing.v1.RoutingService/GetEstimates', 'config.read'],
  ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'api.describe'],
  ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'api.describe'],
]);

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

export function hasPermission(role: Role, p: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(p);
}

/** The roles that hold `p`, in ROLES order ("admin or finance"). */
export function rolesWith(p: Permission): Role[] {
  return ROLES.filter((r) => hasPermission(r, p));
}

/** "admin, operations or customer (own account)". */
export function describeRoles(p: Permission): string {
  const names = rolesWith(p).map((r) => (r === 'customer' ? 'customer (own account only)' : r));
  return names.length <= 1 ? (names[0] ?? 'none') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The method name of a full path ("/pkg.Service/GetMessage" -> "GetMessage"). */
export function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
