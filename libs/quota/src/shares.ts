/**
 * A replica's share of an account's `tps_limit`, when the account's traffic comes in through several
 * "doors" at once (SMPP binds on ingress replicas, HTTP API replicas that carried the account's traffic
 * lately): each door holds a weight (its submit-capable binds; 1 for an HTTP replica in use), and
 *
 *   share = limit × weight here / (weight here + weight of every other live door)
 *
 * so the shares add up to the limit, whichever doors the customer uses.
 */
export function replicaShare(limit: number, mine: number, others: number): number {
  if (!(limit > 0)) return 0;
  // No weight here (a submit racing an unbind) or nothing known elsewhere: the whole limit, as on one replica.
  if (mine <= 0 || others <= 0) return limit;
  return (limit * mine) / (mine + others);
}
