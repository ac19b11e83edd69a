#!/usr/bin/env node
// `npm run send -- --to +447400123456 --text "hello"`: one message through the hub, as a customer sends it.
// Binds as a transceiver (the demo account by default), submits with a delivery receipt requested,
// prints the hub message id, waits for the receipt and prints its status.
// Exits 0 once a final receipt arrived (whatever its status, which is printed), 1 with a sentence otherwise.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ESM_CLASS_DELIVERY_RECEIPT,
  SmppError,
  connectSmpp,
  encodeText,
  formatRelativeSmppTime,
  isFinalStat,
  messageStateToStat,
  parseReceipt,
  statusName,
  type Pdu,
  type PduFields,
  type ReceiptStat,
  type SmppSession,
} from '@smshub/smpp';

const USAGE = `usage: npm run send -- --to NUMBER --text TEXT [options]
  --to NUMBER        destination, international (+447400123456)
  --text TEXT        message text (GSM 03.38 when it fits, else UCS2; long texts go as one message_payload)
  --from SENDER      source address: alphanumeric (up to 11) or a number (default smshub)
  --ucs2             always send UCS2 (data_coding 8)
  --host HOST        SMPP server (default SMPP_HOST or 127.0.0.1)
  --port PORT        (default SMPP_PORT, else 2775, 3550 with --tls, plus HUB_PORT_OFFSET)
  --tls              SMPP over TLS (the local hub's certificate is self-signed: add --insecure)
  --insecure         do not verify the TLS certificate
  --system-id ID     (default SMPP_SYSTEM_ID or demo)
  --password PW      (default SMPP_PASSWORD, DEMO_SMPP_PASSWORD, or .local/secrets/demo-smpp-password)
  --schedule SECONDS hold the message in the hub this long (schedule_delivery_time, relative; the wait
                     for the receipt starts then)
  --wait SECONDS     how long to wait for the delivery receipt (default 60; 0 = do not wait)
HUB_PORT_OFFSET: the offset of a local hub started with one (npm run send sets that of the running hub).`;

/** A failure the user can act on: printed as one sentence, exit 1. */
export class SendError extends Error {}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function defaultPassword(): string | undefined {
  const env = process.env['SMPP_PASSWORD'] ?? process.env['DEMO_SMPP_PASSWORD'];
  if (env) return env;
  const local = process.env['SMSHUB_LOCAL_DIR'] ?? path.join(root, '.local');
  const file = path.join(local, 'secrets/demo-smpp-password');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/**
 * The SMPP port: --port, else SMPP_PORT (plain only), else the local hub's default (2775 plain, 3550 TLS)
 * moved up by HUB_PORT_OFFSET, as `HUB_PORT_OFFSET=N npm start` moves it.
 */
export function smppPort(
  flag: string | undefined,
  tls: boolean,
  env: Record<string, string | undefined>,
): number {
  const offsetText = env['HUB_PORT_OFFSET']?.trim() || '0';
  const offset = Number(offsetText);
  if (!Number.isInteger(offset) || offset < 0 || offset > 15_000)
    throw new SendError(`HUB_PORT_OFFSET must be an integer 0..15000, got "${offsetText}"`);
  const text = flag ?? (tls ? undefined : env['SMPP_PORT']) ?? String((tls ? 3550 : 2775) + offset);
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new SendError(`--port "${text}" is not a port`);
  return port;
}

/** International destination: digits only for the PDU, TON 1 / NPI 1. */
export function destinationFields(to: string): PduFields {
  const digits = to.replace(/[\s().-]/g, '').replace(/^(\+|00)/, '');
  if (!/^[1-9][0-9]{5,14}$/.test(digits))
    throw new SendError(`--to "${to}" is not an international phone number such as +447400123456`);
  return { destination_addr: digits, dest_addr_ton: 1, dest_addr_npi: 1 };
}

/** Alphanumeric sender: TON 5; a number: international TON 1 / NPI 1. */
export function sourceFields(from: string): PduFields {
  const number = /^\+?[0-9]{3,15}$/.test(from);
  if (number) return { source_addr: from.replace(/^\+/, ''), source_addr_ton: 1, source_addr_npi: 1 };
  if (from.length < 1 || from.length > 11)
    throw new SendError(`--from "${from}" must be a number or 1 to 11 letters and digits`);
  return { source_addr: from, source_addr_ton: 5, source_addr_npi: 0 };
}

/** The text as short_message (fits one SMS) or message_payload (the hub splits it). */
export function contentFields(text: string, ucs2: boolean): PduFields {
  if (text.length === 0) throw new SendError('--text must not be empty');
  const enc = encodeText(text, ucs2 ? 'ucs2' : undefined);
  const single = enc.dataCoding === 8 ? 140 : 160;
  if (enc.bytes.length <= single) return { data_coding: enc.dataCoding, short_message: enc.bytes };
  return { data_coding: enc.dataCoding, short_message: Buffer.alloc(0), message_payload: enc.bytes };
}

interface Receipt {
  stat: ReceiptStat;
  err?: string | undefined;
}

/** The id and stat of a receipt deliver_sm (TLVs first, then the text); undefined for MO messages. */
export function readReceipt(pdu: Pdu): (Receipt & { id: string }) | undefined {
  if (((pdu.esm_class ?? 0) & ESM_CLASS_DELIVERY_RECEIPT) === 0) return undefined;
  const bytes = pdu.short_message && pdu.short_message.length > 0 ? pdu.short_message : pdu.message_payload;
  const parsed = bytes ? parseReceipt(bytes) : undefined;
  const id = (pdu.receipted_message_id as string | undefined) || parsed?.id;
  const stat =
    (pdu.message_state !== undefined ? messageStateToStat(pdu.message_state as number) : undefined) ??
    parsed?.stat;
  if (!id || !stat) return undefined;
  return { id, stat, err: parsed?.err };
}

function sameId(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        to: { type: 'string' },
        text: { type: 'string' },
        from: { type: 'string', default: 'smshub' },
        ucs2: { type: 'boolean', default: false },
        host: { type: 'string' },
        port: { type: 'string' },
        tls: { type: 'boolean', default: false },
        insecure: { type: 'boolean', default: false },
        'system-id': { type: 'string' },
        password: { type: 'string' },
        wait: { type: 'string', default: '60' },
        schedule: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new SendError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.to || values.text === undefined) throw new SendError(`--to and --text are required\n${USAGE}`);
  const host = values.host ?? process.env['SMPP_HOST'] ?? '127.0.0.1';
  const port = smppPort(values.port, values.tls, process.env);
  const waitS = Number(values.wait);
  if (!Number.isFinite(waitS) || waitS < 0)
    throw new SendError(`--wait "${values.wait}" is not a number of seconds`);
  const scheduleS = values.schedule === undefined ? 0 : Number(values.schedule);
  if (!Number.isInteger(scheduleS) || scheduleS < 0 || scheduleS > 99 * 86_400)
    throw new SendError(`--schedule "${values.schedule}" is not a whole number of seconds (up to 99 days)`);
  const systemId = values['system-id'] ?? process.env['SMPP_SYSTEM_ID'] ?? 'demo';
  const password = values.password ?? defaultPassword();
  if (!password)
    throw new SendError(
      'no password: give --password, or set DEMO_SMPP_PASSWORD, or run `npm start` once (it writes .local/secrets/demo-smpp-password)',
    );
  const fields: PduFields = {
    ...sourceFields(values.from),
    ...destinationFields(values.to),
    ...contentFields(values.text, values.ucs2),
    registered_delivery: 1,
    ...(scheduleS > 0 ? { schedule_delivery_time: formatRelativeSmppTime(scheduleS) } : {}),
  };

  // Receipts can arrive before submit_sm_resp is read: keep them until the id is known.
  const seen: Array<Receipt & { id: string }> = [];
  let onReceipt: ((r: Receipt & { id: string }) => void) | undefined;
  let session: SmppSession;
  try {
    session = await connectSmpp({
      host,
      port,
      ...(values.tls ? { tls: values.insecure ? { rejectUnauthorized: false } : true } : {}),
      systemId,
      password,
      bindType: 'transceiver',
      connectTimeoutMs: 5000,
      responseTimeoutMs: 10_000,
      handlers: {
        deliver_sm: (pdu) => {
          const r = readReceipt(pdu);
          if (r) {
            seen.push(r);
            onReceipt?.(r);
          }
        },
      },
    });
  } catch (err) {
    if (err instanceof SmppError && err.commandStatus !== 0)
      throw new SendError(
        `bind as "${systemId}" on ${host}:${port} refused (${statusName(err.commandStatus)}): check --system-id and --password`,
      );
    throw new SendError(
      `cannot bind to ${host}:${port}: ${(err as Error).message}. Is the hub running (npm start)?`,
    );
  }
  const started = performance.now();
  try {
    let resp: Pdu;
    try {
      resp = await session.submit(fields);
    } catch (err) {
      if (err instanceof SmppError && err.commandStatus !== 0)
        throw new SendError(`the hub refused the message: ${statusName(err.commandStatus)}`);
      throw new SendError(`submit_sm failed: ${(err as Error).message}`);
    }
    const id = String(resp.message_id ?? '');
    process.stdout.write(`submitted: message id ${id}\n`);
    if (waitS === 0) return 0;
    if (scheduleS > 0)
      process.stdout.write(
        `held by the hub for ${scheduleS} s (query it: SCHEDULED; cancel_sm works until then)\n`,
      );
    process.stdout.write(`waiting up to ${scheduleS + waitS} s for the delivery receipt...\n`);
    const receipt = await new Promise<Receipt | undefined>((resolve) => {
      const match = (r: Receipt & { id: string }): void => {
        if (sameId(r.id, id) && isFinalStat(r.stat)) {
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => resolve(undefined), (scheduleS + waitS) * 1000);
      onReceipt = match;
      for (const r of seen) match(r);
      session.once('close', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (!receipt) {
      throw new SendError(
        session.state === 'CLOSED'
          ? 'the hub closed the session before the delivery receipt arrived'
          : `no delivery receipt within ${waitS} s (the message may still be in flight: see it with npm run hubctl -- messages get ${id})`,
      );
    }
    process.stdout.write(
      `receipt: ${receipt.stat}${receipt.err ? ` (err ${receipt.err})` : ''} after ${seconds} s\n` +
        `timeline: npm run hubctl -- messages get ${id}\n`,
    );
    return 0;
  } finally {
    await session.close();
  }
}

// Run only as a program (the spec imports the helpers above).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `send: ${err instanceof SendError ? err.message : `unexpected error: ${(err as Error)?.stack ?? String(err)}`}\n`,
      );
      process.exit(1);
    },
  );
}
