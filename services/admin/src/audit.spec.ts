import { describe, expect, it } from 'vitest';
import { AdminServiceService } from '@smshub/contracts';
import { METHODS, WRITE_PERMISSIONS } from '@smshub/auth';
import { auditTarget, masked } from './audit.js';

describe('masked', () => {
  it('replaces secrets at any depth and keeps the rest JSON-able', () => {
    expect(
      masked({
        id: 'a1',
        revision: 7n,
        at: new Date('2026-12-01T00:00:00Z'),
        smppCredentials: [{ systemId: 'acme', password: 'pw', passwordHash: '$argon2id$...' }],
        bind: { passwordSecretRef: 'file:/x', sealedPassword: new Uint8Array([1, 2]) },
        csv: new Uint8Array(10),
        secret: 'smshub_xyz',
        emptyPassword: '',
        tokenId: 'keeps-ids',
      }),
    ).toEqual({
      id: 'a1',
      revision: '7',
      at: '2026-12-01T00:00:00.000Z',
      smppCredentials: [{ systemId: 'acme', password: '***', passwordHash: '***' }],
      bind: { passwordSecretRef: '***', sealedPassword: '***' },
      csv: '<10 bytes>',
      secret: '***',
      emptyPassword: '',
      tokenId: 'keeps-ids',
    });
  });
});

describe('auditTarget', () => {
  const reads: string[] = [];
  const get = (name: string) => (req: unknown) => {
    reads.push(`${name} ${JSON.stringify(req)}`);
    return Promise.resolve({ account: { id: 'a1', name: 'before' }, balance: { b: 1 }, id: 't1' });
  };

  it('names the resource of every write, reading the state before updates and deletes', async () => {
    const upd = auditTarget('UpdateAccount', { account: { id: 'a1', name: 'after' } }, get);
    expect(upd).toMatchObject({ kind: 'account', id: 'a1' });
    expect(await upd.before!()).toEqual({ id: 'a1', name: 'before' });
    expect(upd.after({ account: { id: 'a1', name: 'after' } })).toEqual({ id: 'a1', name: 'after' });

    const del = auditTarget('DeleteNumberPrefix', { prefix: '4477' }, get);
    expect(del).toMatchObject({ kind: 'number_prefix', id: '4477' });
    await del.before!();
    expect(reads.at(-1)).toBe('getNumberPrefix {"prefix":"4477"}');

    const create = auditTarget('CreateRoutingRule', {}, get);
    expect(create.kind).toBe('routing_rule');
    expect(create.idFrom!({ routingRule: { id: 'rr1' } })).toBe('rr1');

    const pw = auditTarget('SetSmppPassword', { accountId: 'a1', systemId: 's', password: 'pw' }, get);
    expect(pw.after({ revision: 3n })).toEqual({ systemId: 's', password: '***', revision: 3n });

    const token = auditTarget('CreateToken', {}, get);
    expect(token.after({ token: { id: 't1' }, secret: 'smshub_x' })).toEqual({ id: 't1', secret: '***' });

    const imp = auditTarget('ImportRates', { csv: new Uint8Array(3), replaceAll: true }, get);
    expect(imp).toMatchObject({ kind: 'rate', id: '*' });
  });

  it('knows every write of AdminService (an unknown one falls back to its request)', () => {
    const writes = Object.values(AdminServiceService)
      .map((m) => m.path)
      .filter((p) => WRITE_PERMISSIONS.has(METHODS.get(p)!))
      .map((p) => p.slice(p.lastIndexOf('/') + 1));
    expect(writes.length).toBeGreaterThan(25);
    for (const w of writes) expect(auditTarget(w, { id: 'x', accountId: 'x' }, get).kind, w).not.toBe('');
  });
});
