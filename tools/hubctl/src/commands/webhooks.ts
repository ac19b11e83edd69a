// Webhooks over the webhooks service's WebhookService: an account's endpoint and signing secrets (a new
// secret is printed once), the delivery attempts of a message, and replays.
import type { Command } from 'commander';
import {
  ListAttemptsResponse,
  ReplayResponse,
  WebhookDeliveryState,
  WebhookEndpoint,
  type WebhookAttempt,
  type WebhookDelivery,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { keyValueTable, listTable, type Column } from '../output.js';
import { parseIntFlag } from '../values.js';

const iso = (d: Date | undefined) => (d ? d.toISOString() : '');

const state = (s: WebhookDeliveryState) =>
  ({
    [WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_PENDING]: 'pending',
    [WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_DELIVERED]: 'delivered',
    [WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_FAILED]: 'failed',
  })[s as number] ?? '';

interface Row {
  d: WebhookDelivery;
  a: WebhookAttempt | undefined;
}

const ATTEMPT_COLUMNS: Column<Row>[] = [
  { header: 'DELIVERY', value: (r) => r.d.id },
  { header: 'REV', value: (r) => String(r.d.revision) },
  { header: 'STATE', value: (r) => state(r.d.state) },
  { header: 'ATTEMPT ID', value: (r) => r.a?.id ?? '' },
  { header: '#', value: (r) => (r.a ? `${r.a.attempt}${r.a.replay ? ' (replay)' : ''}` : '') },
  { header: 'STARTED', value: (r) => iso(r.a?.startedAt) },
  { header: 'MS', value: (r) => (r.a ? String(r.a.durationMs) : '') },
  { header: 'HTTP', value: (r) => (r.a?.httpStatus ? String(r.a.httpStatus) : r.a ? '-' : '') },
  { header: 'ERROR', value: (r) => r.a?.error ?? '' },
];

function rows(deliveries: readonly WebhookDelivery[]): Row[] {
  return deliveries.flatMap((d): Row[] =>
    d.attempts.length === 0 ? [{ d, a: undefined }] : d.attempts.map((a) => ({ d, a })),
  );
}

function nextLine(deliveries: readonly WebhookDelivery[]): string {
  return deliveries
    .filter((d) => d.nextAttemptAt)
    .map((d) => `delivery ${d.id}: next attempt at ${iso(d.nextAttemptAt)}\n`)
    .join('');
}

export function webhookCommands(session: Session, program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description("signed delivery-receipt webhooks (the webhooks service's WebhookService)");

  webhooks
    .command('set')
    .description("create or update an account's endpoint (a new endpoint's signing secret is printed once)")
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--url <url>', 'http(s) URL the receipts are POSTed to')
    .option('--intermediate', 'also POST intermediate statuses (ACCEPTED, ENROUTE)')
    .option('--disabled', 'store nothing and send nothing for the account (pause)')
    .addHelpText(
      'after',
      '\nExample:\n  $ hubctl webhooks set --account 6c98feca-... --url https://example.com/smshub/receipts\n',
    )
    .action(
      async (f: { account: string; url: string; intermediate?: boolean; disabled?: boolean }, c: Command) => {
        const ctx = session.ctx(c);
        const res = await ctx.rpc.unary('webhooks', 'setEndpoint', {
          accountId: f.account,
          url: f.url,
          includeIntermediate: f.intermediate === true,
          disabled: f.disabled === true,
        });
        const endpoint = res.endpoint ? WebhookEndpoint.toJSON(res.endpoint) : {};
        ctx.emit({ endpoint, ...(res.signingSecret ? { signingSecret: res.signingSecret } : {}) }, () =>
          res.signingSecret
            ? `${keyValueTable(endpoint)}signing secret: ${res.signingSecret}\n` +
              'Store it now: it is shown only this once (receivers verify the Smshub-Signature header with it).\n'
            : `updated\n${keyValueTable(endpoint)}`,
        );
      },
    );

  webhooks
    .command('get')
    .description("an account's endpoint (never its secrets)")
    .requiredOption('--account <id>', 'account id')
    .action(async (f: { account: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('webhooks', 'getEndpoint', { accountId: f.account });
      const endpoint = res.endpoint ? WebhookEndpoint.toJSON(res.endpoint) : {};
      ctx.emit(endpoint, () => keyValueTable(endpoint));
    });

  webhooks
    .command('delete')
    .description("delete an account's endpoint (its pending deliveries fail)")
    .requiredOption('--account <id>', 'account id')
    .action(async (f: { account: string }, c: Command) => {
      const ctx = session.ctx(c);
      await ctx.rpc.unary('webhooks', 'deleteEndpoint', { accountId: f.account });
      ctx.emit({}, () => `deleted the webhook endpoint of ${f.account}\n`);
    });

  webhooks
    .command('rotate-secret')
    .description('new signing secret (printed once); the old one stays valid, and signed with, for --overlap')
    .requiredOption('--account <id>', 'account id')
    .option('--overlap <seconds>', 'how long the previous secret stays valid (default 86400, max 30 days)')
    .action(async (f: { account: string; overlap?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const overlapSeconds =
        f.overlap === undefined ? 0 : parseIntFlag(f.overlap, '--overlap', 1, 30 * 86_400);
      const res = await ctx.rpc.unary('webhooks', 'rotateSecret', { accountId: f.account, overlapSeconds });
      const endpoint = res.endpoint ? WebhookEndpoint.toJSON(res.endpoint) : {};
      ctx.emit(
        { endpoint, signingSecret: res.signingSecret },
        () =>
          `${keyValueTable(endpoint)}new signing secret: ${res.signingSecret}\n` +
          `Store it now: it is shown only this once. Both secrets sign every request until ${iso(res.endpoint?.previousSecretUntil)}.\n`,
      );
    });

  webhooks
    .command('attempts')
    .description("a message's webhook deliveries and every HTTP attempt of each")
    .requiredOption('--message <id>', 'hub message id')
    .action(async (f: { message: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('webhooks', 'listAttempts', { messageId: f.message });
      ctx.emit(
        ListAttemptsResponse.toJSON(res),
        () =>
          listTable(rows(res.deliveries), ATTEMPT_COLUMNS, 'webhook deliveries') + nextLine(res.deliveries),
      );
    });

  webhooks
    .command('replay')
    .description('send a delivery again now, with a fresh 24 h of retries')
    .argument('<id>', 'a delivery id or an attempt id (from `webhooks attempts`)')
    .action(async (id: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('webhooks', 'replay', { id });
      ctx.emit(ReplayResponse.toJSON(res), () => `delivery ${res.delivery?.id ?? id} scheduled again now\n`);
    });
}
