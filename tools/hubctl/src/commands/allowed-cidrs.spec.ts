import { describe, expect, it } from 'vitest';
import type { Account, UpdateAccountRequest } from '@smshub/contracts';
import { EXIT } from '../exit-codes.js';
import { runWith } from '../testing.js';
import { normaliseCidr } from './allowed-cidrs.js';

const ID = '0193a0a0-0000-7000-8000-000000000001';

/** A fake admin holding one account; updateAccount applies the credential as the real one does. */
function admin(cidrs: string[]) {
  let account = {
    id: ID,
    revision: 7n,
    smppCredentials: [
      {
        systemId: 'acme',
        allowedCidrs: cidrs,
        maxBinds: 4,
        maxSubmitRate: 50,
        windowSize: 20,
        passwordHash: '',
        password: '',
      },
    ],
  } as unknown as Account;
  return {
    get account() {
      return account;
    },
    handlers: {
      getAccount: () => ({ account }),
      updateAccount: (req: UpdateAccountRequest) => {
        account = {
          ...account,
          smppCredentials: req.account!.smppCredentials,
          revision: account.revision + 1n,
        };
        return { account };
      },
    },
  };
}

describe('hubctl accounts allowed-cidrs', () => {
  it('adds networks, keeping the rest of the credential, with the revision it read', async () => {
    const a = admin(['192.0.2.0/24']);
    const r = await runWith(
      ['accounts', 'allowed-cidrs', 'add', ID, '198.51.100.7', '192.0.2.0/24', '2001:DB8::/32', '-o', 'json'],
      a.handlers,
    );
    expect(r.code).toBe(0);
    const update = r.calls[1]!.request as UpdateAccountRequest;
    expect(update.updateMask).toEqual(['smpp_credentials']);
    expect(update.expectedRevision).toBe(7n);
    expect(update.account!.smppCredentials[0]).toMatchObject({
      systemId: 'acme',
      maxBinds: 4,
      maxSubmitRate: 50,
      windowSize: 20,
      allowedCidrs: ['192.0.2.0/24', '198.51.100.7/32', '2001:db8::/32'],
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ systemId: 'acme', revision: '8' });
  });

  it('removes networks; refuses to remove one that is not there or the last one (use clear)', async () => {
    const a = admin(['192.0.2.0/24', '198.51.100.7/32']);
    expect((await runWith(['accounts', 'allowed-cidrs', 'rm', ID, '198.51.100.7'], a.handlers)).code).toBe(0);
    expect(a.account.smppCredentials[0]!.allowedCidrs).toEqual(['192.0.2.0/24']);
    const missing = await runWith(['accounts', 'allowed-cidrs', 'remove', ID, '10.0.0.0/8'], a.handlers);
    expect(missing.code).toBe(EXIT.DATA);
    expect(missing.stderr).toContain('not in the list: 10.0.0.0/8');
    const last = await runWith(['accounts', 'allowed-cidrs', 'remove', ID, '192.0.2.0/24'], a.handlers);
    expect(last.code).toBe(EXIT.USAGE);
    expect(last.stderr).toContain('use "clear"');
    const clear = await runWith(['accounts', 'allowed-cidrs', 'clear', ID], a.handlers);
    expect(clear.stdout).toContain('may bind from any address');
    const list = await runWith(['accounts', 'allowed-cidrs', 'list', ID], a.handlers);
    expect(list.calls.map((c) => c.method)).toEqual(['getAccount']);
  });

  it('says what is wrong with a network before calling the admin', async () => {
    expect(normaliseCidr('10.1.2.0/24')).toBe('10.1.2.0/24');
    expect(normaliseCidr('10.1.2.3')).toBe('10.1.2.3/32');
    expect(() => normaliseCidr('10.1.2.3/24')).toThrow('did you mean 10.1.2.0/24');
    expect(() => normaliseCidr('10.1.2.300/24')).toThrow('is not an IP network');
    expect(() => normaliseCidr('10.0.0.0/33')).toThrow('at most 32');
    const r = await runWith(['accounts', 'allowed-cidrs', 'add', ID, 'example.com'], admin([]).handlers);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.calls).toEqual([]);
  });
});
