import type { topics } from '@smshub/contracts';

/** The registry entries dlr uses (tests pass isolated copies). */
export type DlrTopics = Pick<
  typeof topics,
  | 'submitted'
  | 'routed'
  | 'rejected'
  | 'dispatched'
  | 'receiptRaw'
  | 'partStatus'
  | 'delivery'
  | 'deliveryStats'
> &
  /** sms.inbound.v1: MO get their own message and timeline when given. */
  Partial<Pick<typeof topics, 'inbound'>> &
  /** sms.scheduled.v1: a "held" entry in the timeline of a message the hub holds, when given. */
  Partial<Pick<typeof topics, 'scheduled'>> &
  /** billing.rated.v1: a "rated" entry (the price) in the timeline, when given. */
  Partial<Pick<typeof topics, 'rated'>> &
  /** sms.reroute.v1: fast failures are re-routed (issue 21) only when given. */
  Partial<Pick<typeof topics, 'reroute'>>;
