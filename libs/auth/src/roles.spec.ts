import { describe, expect, it } from 'vitest';
import {
  AdminServiceService,
  DeadLetterServiceService,
  MessageServiceService,
  ProbeServiceService,
  RoutingServiceService,
  SchedulerServiceService,
  SettlementServiceService,
  StatsServiceService,
  WebhookServiceService,
} from '@smshub/contracts';
import { describeRoles, hasPermission, METHODS, ROLES, rolesWith } from './roles.js';

const services = {
  AdminServiceService,
  DeadLetterServiceService,
  MessageServiceService,
  ProbeServiceService,
  RoutingServiceService,
  SchedulerServiceService,
  SettlementServiceService,
  StatsServiceService,
  WebhookServiceService,
};

describe('the method -> permission table', () => {
  it.each(Object.entries(services))('covers every method of %s', (_name, def) => {
    const missing = Object.values(def)
      .map((m) => m.path)
      .filter((p) => !METHODS.has(p));
    expect(missing).toEqual([]);
  });

  it('names no method that does not exist', () => {
    const known = new Set(Object.values(services).flatMap((d) => Object.values(d).map((m) => m.path)));
    const unknown = [...METHODS.keys()].filter((p) => !known.has(p) && !p.startsWith('/grpc.reflection.'));
    expect(unknown).toEqual([]);
  });

  it('gives admin everything, and no other role a write to configuration or tokens', () => {
    for (const p of new Set(METHODS.values())) expect(hasPermission('admin', p)).toBe(true);
    for (const r of ROLES.filter((r) => r !== 'admin')) {
      expect(hasPermission(r, 'config.write')).toBe(false);
      expect(hasPermission(r, 'tokens.manage')).toBe(false);
      expect(hasPermission(r, 'audit.read')).toBe(false);
    }
  });

  it('keeps money from operations and message contents from finance', () => {
    for (const p of ['rates.read', 'balances.read', 'balances.write', 'settlement.read'] as const) {
      expect(hasPermission('operations', p)).toBe(false);
    }
    expect(hasPermission('finance', 'messages.read')).toBe(false);
    expect(rolesWith('messages.read')).toEqual(['admin', 'operations', 'customer']);
  });

  it('gives customers their messages and totals only', () => {
    const allowed = [...METHODS].filter(([, p]) => hasPermission('customer', p)).map(([m]) => m);
    expect(allowed.sort()).toEqual([
      '/smshub.admin.v1.AdminService/WhoAmI',
      '/smshub.billing.v1.SettlementService/ExportCsv',
      '/smshub.billing.v1.SettlementService/GetTotals',
      '/smshub.messages.v1.MessageService/GetMessage',
      '/smshub.messages.v1.MessageService/ListMessages',
      '/smshub.stats.v1.StatsService/GetBreakdown',
      '/smshub.stats.v1.StatsService/GetSeries',
      '/smshub.stats.v1.StatsService/GetSummary',
      '/smshub.webhooks.v1.WebhookService/ListAttempts',
    ]);
  });

  it('lets every role ask who it is, and staff see the live state (no money in it)', () => {
    expect(rolesWith('self.read')).toEqual(['admin', 'operations', 'finance', 'customer']);
    expect(rolesWith('ops.read')).toEqual(['admin', 'operations', 'finance']);
  });

  it('gives dead letters to the staff who run traffic: admin and operations, not finance', () => {
    expect(rolesWith('deadletters.read')).toEqual(['admin', 'operations']);
    expect(rolesWith('deadletters.replay')).toEqual(['admin', 'operations']);
  });

  it('names the roles a permission needs', () => {
    expect(describeRoles('settlement.reconcile')).toBe('admin or finance');
    expect(describeRoles('tokens.manage')).toBe('admin');
    expect(describeRoles('messages.read')).toBe('admin, operations or customer (own account only)');
  });
});
