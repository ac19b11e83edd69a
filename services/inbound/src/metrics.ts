import { counter, gauge } from '@smshub/telemetry';

export const moReceived = counter('smshub_inbound_mo_total', 'MO records (parts) read from sms.mo.v1');
export const published = counter(
  'smshub_inbound_published_total',
  'Inbound messages published on sms.inbound.v1, by form (whole, reassembled, part, part_timeout)',
  ['form'],
);
export const dropped = counter(
  'smshub_inbound_dropped_total',
  'Inbound messages dropped, by reason (unassigned_number: no account and no default account)',
  ['reason'],
);
export const consumed = counter(
  'smshub_inbound_consumed_total',
  'Inbound messages the keyword hook answered itself (not sent to the customer), by reason',
  ['reason'],
);
export const defaultAccount = counter(
  'smshub_inbound_default_account_total',
  'Inbound messages to an unassigned number given to INBOUND_DEFAULT_ACCOUNT_ID',
);
export const partsWaiting = gauge('smshub_inbound_parts_waiting', 'MO parts waiting for their siblings');
