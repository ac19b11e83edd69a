// `ops mo`: makes the SMSC simulator originate an inbound message (MO) to a hub number, as a subscriber's
// handset would; the simulator sends it to the hub over the connector egress bound to it.
//   npm run ops -- mo --from +447700900123 --to 447700900000 --text "STOP" [--ucs2] [--parts N]
//                     [--only-parts 1,3] [--simulator sim-good]
import { parseArgs } from 'node:util';
import { DemoError } from './demo.js';

export const MO_USAGE = `usage: ops mo --from ADDRESS --to HUB_NUMBER --text TEXT [--ucs2] [--parts N] [--only-parts 1,3] [--simulator NAME]
  --from        the subscriber's number (+ for international) or an alphanumeric sender
  --to          the hub number it replies to (assign it first: hubctl numbers add)
  --text        the message; longer than one SMS = UDH parts
  --ucs2        send as UCS2 (data_coding 8) even when GSM7 would do
  --parts N     split the text into N UDH parts (to try reassembly)
  --only-parts  send only these parts (a long message whose other parts never arrive)
  --simulator   which simulated network sends it (default: the first, sim-good in the demo)`;

export async function originateMo(argv: string[], controlUrl: string): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        text: { type: 'string' },
        ucs2: { type: 'boolean' },
        parts: { type: 'string' },
        'only-parts': { type: 'string' },
        simulator: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new DemoError(`${(err as Error).message}\n${MO_USAGE}`);
  }
  if (!values.from || !values.to || values.text === undefined)
    throw new DemoError(`--from, --to and --text are required\n${MO_USAGE}`);
  const body = {
    from: values.from,
    to: values.to,
    text: values.text,
    ...(values.ucs2 ? { ucs2: true } : {}),
    ...(values.parts ? { parts: Number(values.parts) } : {}),
    ...(values['only-parts'] ? { onlyParts: values['only-parts'].split(',').map(Number) } : {}),
    ...(values.simulator ? { simulator: values.simulator } : {}),
  };
  let res: Response;
  try {
    res = await fetch(`${controlUrl}/mo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new DemoError(
      `the SMSC simulator's control endpoint ${controlUrl} does not answer (${(err as Error).message}): is the hub running (npm start)?`,
    );
  }
  const answer = (await res.json().catch(() => ({}))) as {
    parts?: number;
    simulator?: string;
    error?: string;
  };
  if (!res.ok)
    throw new DemoError(
      `the simulator refused the MO: ${answer.error ?? res.status}` +
        (res.status === 503 ? ' (is egress bound to it? it binds a few seconds after start)' : ''),
    );
  return `MO sent by ${answer.simulator} in ${answer.parts} part(s): from ${values.from} to ${values.to}\n`;
}
