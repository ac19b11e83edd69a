import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchOutcome } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import type { EgressCore } from '../src/core.js';
import { FakeSmsc } from './fake-smsc.js';
import { selfSignedCert } from '@smshub/testing';
import { Harness } from './harness.js';

const selfSigned = selfSignedCert;

describe('egress: TLS connectors and enquire_link', () => {
  const h = new Harness();
  const { key, cert } = selfSigned();
  const smsc = new FakeSmsc('hub', 'secret', { key, cert });
  let core: EgressCore;

  beforeAll(async () => {
    await h.setup();
    await h.addConnector({ id: 'con_tls', port: await smsc.listen(), tls: true, enquireLinkMs: 100 });
    core = await h.startCore({ tls: { ca: cert } });
  });
  afterAll(async () => {
    await h.teardown();
    await smsc.close();
  });

  it('binds over TLS (certificate verified against the configured CA), sends, and keeps the link alive', async () => {
    await waitFor(() => core.connectors.get('con_tls')?.healthy, { what: 'TLS bind' });
    expect(smsc.boundSessions()[0]?.socket.constructor.name).toBe('TLSSocket');
    const id = await h.route(['con_tls'], 'over TLS');
    const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'dispatch' });
    expect(d.outcome).toBe(DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED);
    await waitFor(() => smsc.enquireLinks >= 3, { what: 'enquire_link every 100 ms' });
  });
});
